import type { Reminder } from "@hyperhive/shared/contract";
import { isFailing } from "../../reminder-model.js";
import { cancelReminder } from "../lib/api.js";
import { clock, duration } from "../lib/format.js";
import { useNow } from "../lib/now.js";
import type { Reminders } from "../state/reminders.js";
import { Age } from "./Age.js";
import { ReminderAction } from "./ReminderAction.js";
import { ReminderFailure } from "./ReminderFailure.js";

/** When it is next due ("in 4m", "overdue 10s"), or when it finished. */
function When({ r }: { r: Reminder }) {
  const now = useNow();
  if (r.state === "cancelled" && r.cancelled_at !== null) {
    return <span class="when">cancelled {clock(r.cancelled_at)}</span>;
  }
  if (r.state === "delivered") {
    return <span class="when">done {clock(r.last_delivered_at ?? r.due_at)}</span>;
  }
  const left = Math.round((r.due_at - now) / 1000);
  return (
    <span class="when" title={clock(r.due_at)}>
      due {left > 0 ? `in ${duration(left)}` : `${duration(-left)} ago`}
    </span>
  );
}

/**
 * One reminder on its agent's page: its number, state, when it is due (or finished), whether it
 * repeats, who set it, its text, how often it was delivered and when last; a failing one's error,
 * tries and next try with "retry now"; cancel while it is pending. Changes come by its events.
 */
export function ReminderItem({ r, reminders }: { r: Reminder; reminders: Reminders }) {
  return (
    <li
      class={`reminder reminder-${r.state}`}
      data-id={r.id}
      data-state={r.state}
      data-delivered={r.delivered_count}
    >
      <div class="reminder-head">
        <span class="muted">#{r.id}</span>
        <span class={`badge reminder-state state-${r.state}`}>{r.state}</span>
        <When r={r} />
        <span class="muted repeat">
          {r.every_seconds === null ? "once" : `every ${duration(r.every_seconds)}`}
        </span>
        <span class="muted set-by">set by {r.created_by}</span>
      </div>
      <div class="body reminder-text">{r.body}</div>
      <div class="muted delivered">
        delivered {r.delivered_count}×
        {r.last_delivered_at !== null && (
          <>
            , last <Age since={r.last_delivered_at} /> ago
          </>
        )}
      </div>
      {isFailing(r) && <ReminderFailure r={r} reminders={reminders} />}
      {r.state === "cancelled" && r.last_error !== null && (
        <div class="muted why">{r.last_error}</div>
      )}
      {r.state === "pending" && (
        <div class="form-row">
          <ReminderAction
            r={r}
            reminders={reminders}
            label="cancel"
            class="secondary cancel-reminder"
            act={cancelReminder}
            done={(after) => after.state}
          />
        </div>
      )}
    </li>
  );
}
