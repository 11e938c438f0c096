import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

type ReminderCommand = "remind" | "list_my_reminders" | "cancel_reminder";

/**
 * Reminders, bridged to the scheduler on `hive.agent.<me>.{remind,reminders,cancel_reminder}`:
 * the scheduler takes the owner from the subject and decides everything (limits, whose reminder
 * may be cancelled). Not remembered in the turn memory: the contract's `PreviousAction` has no
 * kind for it (the agent can check `list_my_reminders` when a message comes again).
 */
export function reminderCommands(ctx: CommandContext): Pick<SocketHandlers, ReminderCommand> {
  return {
    remind: (params) => ctx.hive.remind(params, ctx.signal),
    list_my_reminders: (params) => ctx.hive.myReminders(params, ctx.signal),
    // On the socket the reminder is `reminder_id` (a line's `id` is its own); the scheduler's is `id`.
    cancel_reminder: ({ reminder_id }) => ctx.hive.cancelReminder({ id: reminder_id }, ctx.signal),
  };
}
