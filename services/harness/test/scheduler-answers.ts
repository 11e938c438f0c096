import type { Reminder } from "@hyperhive/shared";

/** A reminder as the scheduler answers remind/list/cancel: pending, one-shot, set by alice at `at`. */
export function reminderFrom(
  over: Partial<Reminder> & Pick<Reminder, "id" | "body" | "due_at">,
  at = 1,
): Reminder {
  return {
    owner: "alice",
    created_by: "alice",
    created_at: at,
    every_seconds: null,
    state: "pending",
    delivered_count: 0,
    last_delivered_at: null,
    attempt_count: 0,
    last_error: null,
    retry_at: null,
    cancelled_at: null,
    ...over,
  };
}
