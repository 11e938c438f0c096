import * as z from "zod";
import { AgentName, Sender } from "../names.js";
import { Body } from "./broker.js";

/**
 * Reminders (the scheduler): an agent sets them for itself (`remind`, `list_my_reminders`,
 * `cancel_reminder` on `hive.agent.<me>.*`), the operator for any agent (`hive.op.*`). A due
 * reminder lands in its owner's inbox as a message from `reminder`, exactly once per occurrence.
 */

/** The shortest period of a repeating reminder: a minute. */
export const MIN_REMINDER_EVERY_SECONDS = 60;
/** The longest a reminder may be set ahead, and the longest period: a year. */
export const MAX_REMINDER_AHEAD_SECONDS = 366 * 24 * 3600;
/** A reminder's text is at most this long (its message adds a line of its own). */
export const MAX_REMINDER_BODY_CHARS = 2000;

export const ReminderId = z.number().int().positive();
export type ReminderId = z.infer<typeof ReminderId>;

/** `pending` until its last occurrence was delivered (`delivered`) or it was `cancelled`. */
export const ReminderState = z.enum(["pending", "delivered", "cancelled"]);
export type ReminderState = z.infer<typeof ReminderState>;

/** A reminder and where it stands. */
export const Reminder = z.strictObject({
  id: ReminderId,
  /** Whose inbox it lands in. */
  owner: AgentName,
  body: z.string(),
  /** Who set it: the owner, or `operator`. */
  created_by: Sender,
  /** Unix ms. */
  created_at: z.number().int(),
  /** Unix ms of the next occurrence (the last one, once delivered or cancelled). */
  due_at: z.number().int(),
  /** Seconds between occurrences; null: it fires once. */
  every_seconds: z.number().int().nullable(),
  state: ReminderState,
  /** Occurrences delivered so far. */
  delivered_count: z.number().int().nonnegative(),
  /** Unix ms of the last delivery; null before the first. */
  last_delivered_at: z.number().int().nullable(),
  /** Failed tries of the current occurrence (0 when the last try worked or none failed yet). */
  attempt_count: z.number().int().nonnegative(),
  /** Why the last try of the current occurrence failed; null when it did not. */
  last_error: z.string().nullable(),
  /** Unix ms of the next try after a failure; null when none is waiting. */
  retry_at: z.number().int().nullable(),
  /** Unix ms when it was cancelled; null otherwise. */
  cancelled_at: z.number().int().nullable(),
});
export type Reminder = z.infer<typeof Reminder>;

/** The text of a reminder: something in it, at most {@link MAX_REMINDER_BODY_CHARS}. */
const ReminderBody = Body.refine(
  (b) => b.length <= MAX_REMINDER_BODY_CHARS,
  `a reminder's text is at most ${MAX_REMINDER_BODY_CHARS} characters`,
);

/** When a reminder fires: exactly one of `in_seconds` or `at`; `every_seconds` repeats it. */
const When = {
  /** Seconds from now (1 s to a year). */
  in_seconds: z.number().int().min(1).max(MAX_REMINDER_AHEAD_SECONDS).optional(),
  /** An ISO-8601 time with its offset, e.g. `2026-12-05T09:00:00Z` (at most a year ahead). */
  at: z.iso.datetime({ offset: true }).optional(),
  /** Repeat every this many seconds after the first (at least a minute). */
  every_seconds: z
    .number()
    .int()
    .min(MIN_REMINDER_EVERY_SECONDS)
    .max(MAX_REMINDER_AHEAD_SECONDS)
    .optional(),
};

const oneWhen = (r: { in_seconds?: number | undefined; at?: string | undefined }) =>
  (r.in_seconds === undefined) !== (r.at === undefined);
const ONE_WHEN = "give exactly one of in_seconds or at";

/** `hive.agent.<me>.remind` request (the `remind` tool): a reminder for the caller. */
export const RemindRequest = z
  .strictObject({ body: ReminderBody, ...When })
  .refine(oneWhen, ONE_WHEN);
export type RemindRequest = z.infer<typeof RemindRequest>;

/** The reply to remind, cancel, retry: the reminder as it is now. */
export const ReminderResponse = z.strictObject({ reminder: Reminder });
export type ReminderResponse = z.infer<typeof ReminderResponse>;

/** `hive.agent.<me>.reminders` request (`list_my_reminders`): the caller's own, soonest first. */
export const MyRemindersRequest = z.strictObject({
  /** Delivered and cancelled ones too (default: pending only). */
  all: z.boolean().optional(),
});
export type MyRemindersRequest = z.infer<typeof MyRemindersRequest>;

export const RemindersResponse = z.strictObject({
  reminders: z.array(Reminder),
  /** True when there were more than the reply holds (the newest, soonest first, are left off). */
  truncated: z.boolean(),
});
export type RemindersResponse = z.infer<typeof RemindersResponse>;

/** `hive.agent.<me>.cancel_reminder` request: one of the caller's own pending reminders. */
export const CancelReminderRequest = z.strictObject({ id: ReminderId });
export type CancelReminderRequest = z.infer<typeof CancelReminderRequest>;

/** `hive.op.reminders` request: every agent's reminders, or one agent's, soonest first. */
export const OperatorRemindersRequest = z.strictObject({
  agent: AgentName.optional(),
  all: z.boolean().optional(),
  /** At most this many (default 200, at most 1000). */
  limit: z.number().int().min(1).max(1000).optional(),
});
export type OperatorRemindersRequest = z.infer<typeof OperatorRemindersRequest>;

/** `hive.op.remind` request: the operator sets a reminder for an agent. */
export const OperatorRemindRequest = z
  .strictObject({ agent: AgentName, body: ReminderBody, ...When })
  .refine(oneWhen, ONE_WHEN);
export type OperatorRemindRequest = z.infer<typeof OperatorRemindRequest>;

/** `hive.op.cancel_reminder` request: the operator cancels any pending reminder. */
export const OperatorCancelReminderRequest = z.strictObject({ id: ReminderId });
/** `hive.op.retry_reminder` request: try a failing delivery again now. */
export const RetryReminderRequest = z.strictObject({ id: ReminderId });
export type RetryReminderRequest = z.infer<typeof RetryReminderRequest>;

/** One agent's reminders in numbers: the chip on its row. */
export const ReminderCounts = z.strictObject({
  agent: AgentName,
  pending: z.number().int().nonnegative(),
  /** Occurrences delivered, all time (repeating ones count each). */
  delivered: z.number().int().nonnegative(),
  /** Pending ones whose current occurrence failed at least once and waits for a retry. */
  failing: z.number().int().nonnegative(),
});
export type ReminderCounts = z.infer<typeof ReminderCounts>;

/** `hive.op.reminder_counts` request: the counts of every agent with reminders. */
export const ReminderCountsRequest = z.strictObject({});
export const ReminderCountsResponse = z.strictObject({ counts: z.array(ReminderCounts) });
export type ReminderCountsResponse = z.infer<typeof ReminderCountsResponse>;

/**
 * `hive.events.reminders` event: a reminder was created, delivered, failed a try, or cancelled;
 * with its owner's counts after the change, so a dashboard's chips follow without a request.
 */
export const ReminderEvent = z.strictObject({
  reminder: Reminder,
  counts: ReminderCounts,
});
export type ReminderEvent = z.infer<typeof ReminderEvent>;
