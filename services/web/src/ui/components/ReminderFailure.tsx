import type { Reminder } from "@hyperhive/shared/contract";
import { retryReminder } from "../lib/api.js";
import type { Reminders } from "../state/reminders.js";
import { Countdown } from "./Age.js";
import { ReminderAction } from "./ReminderAction.js";

/**
 * Why a failing reminder has not landed — its last error, how many tries failed, when the next
 * one is — and "retry now", which asks the scheduler to try at once. Whether that worked comes
 * as the reminder's next event (delivered, or another failed try).
 */
export function ReminderFailure({ r, reminders }: { r: Reminder; reminders: Reminders }) {
  const tries = r.attempt_count === 1 ? "1 failed try" : `${r.attempt_count} failed tries`;
  return (
    <div class="reminder-failure" data-id={r.id} data-attempts={r.attempt_count}>
      <span class="last-error">{r.last_error ?? "failed"}</span>
      <span class="muted attempts">{tries}</span>
      <span class="muted next-try">
        {r.retry_at === null ? (
          "no retry waiting"
        ) : (
          <>
            next try in <Countdown until={r.retry_at} />
          </>
        )}
      </span>
      <ReminderAction
        r={r}
        reminders={reminders}
        label="retry now"
        class="retry-reminder"
        act={retryReminder}
        done={() => "trying now"}
      />
    </div>
  );
}
