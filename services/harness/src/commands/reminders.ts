import { quote } from "../message-text.js";
import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

type ReminderCommand = "remind" | "list_my_reminders" | "cancel_reminder";

/**
 * Reminders, bridged to the scheduler on `hive.agent.<me>.{remind,reminders,cancel_reminder}`:
 * the scheduler takes the owner from the subject and decides everything (limits, whose reminder
 * may be cancelled). A reminder a turn sets is remembered like a send, so a turn on the same
 * message that comes again is told it was set already.
 */
export function reminderCommands(ctx: CommandContext): Pick<SocketHandlers, ReminderCommand> {
  return {
    remind: async (params) => {
      const turn = ctx.currentTurn();
      const r = await ctx.hive.remind(params, ctx.signal);
      const { id, due_at, body } = r.reminder;
      turn?.memory.record({ kind: "reminded", id, due_at, quote: quote(body) });
      return r;
    },
    list_my_reminders: (params) => ctx.hive.myReminders(params, ctx.signal),
    // On the socket the reminder is `reminder_id` (a line's `id` is its own); the scheduler's is `id`.
    cancel_reminder: ({ reminder_id }) => ctx.hive.cancelReminder({ id: reminder_id }, ctx.signal),
  };
}
