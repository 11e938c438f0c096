import type { Reminder, ReminderId, ReminderResponse } from "@hyperhive/shared/contract";
import { useAction } from "../lib/action.js";
import type { Reminders } from "../state/reminders.js";
import { ActionStatus } from "./ActionStatus.js";

/**
 * A button that asks the scheduler to do something to one reminder (cancel it, retry it now),
 * then what it came to beside it, or its typed error. The reminder in the reply is noted in the
 * store (its event says the same and, arriving later, wins).
 */
export function ReminderAction(props: {
  r: Reminder;
  reminders: Reminders;
  label: string;
  class: string;
  act(id: ReminderId): Promise<ReminderResponse>;
  done(r: Reminder): string;
}) {
  const { r, reminders, act, done } = props;
  const action = useAction();
  return (
    <>
      <button
        type="button"
        class={`small ${props.class}`}
        disabled={action.busy.value}
        onClick={() =>
          void action.run(
            () => act(r.id),
            (res) => {
              reminders.note([res.reminder]);
              return done(res.reminder);
            },
          )
        }
      >
        {props.label}
      </button>
      <ActionStatus action={action} />
    </>
  );
}
