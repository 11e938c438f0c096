import type { Reminder } from "../schemas/scheduler.js";

/**
 * The fields of a pending reminder that has not fired, failed or been cancelled yet, once: test
 * samples spread it and set the rest (`id`, `owner`, `body`, `created_by`, times).
 */
export const UNTOUCHED_REMINDER = {
  every_seconds: null,
  state: "pending",
  delivered_count: 0,
  last_delivered_at: null,
  attempt_count: 0,
  last_error: null,
  retry_at: null,
  cancelled_at: null,
} as const satisfies Partial<Reminder>;
