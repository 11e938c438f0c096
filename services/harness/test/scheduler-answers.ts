import type { Reminder } from "@hyperhive/shared";
import { UNTOUCHED_REMINDER } from "@hyperhive/shared/testing";

/** A reminder as the scheduler answers remind/list/cancel: pending, one-shot, set by alice at `at`. */
export function reminderFrom(
  over: Partial<Reminder> & Pick<Reminder, "id" | "body" | "due_at">,
  at = 1,
): Reminder {
  return {
    owner: "alice",
    created_by: "alice",
    created_at: at,
    ...UNTOUCHED_REMINDER,
    ...over,
  };
}
