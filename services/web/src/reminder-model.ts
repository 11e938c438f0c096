/**
 * Reminders as the dashboard keeps them: which are failing, which of two copies of one is the
 * later, and the order an agent's page lists them in. Pure and browser-safe (it imports only the
 * contract), so the server's snapshot, the pages and the unit tests use the same code.
 */
import type { Reminder, ReminderId } from "@hyperhive/shared/contract";

/**
 * Pending, and its current occurrence failed at least once: it waits for a retry. The same rule
 * as the scheduler's `failing` count (its `attempt_count` is cleared when the occurrence lands).
 */
export function isFailing(r: Reminder): boolean {
  return r.state === "pending" && r.attempt_count > 0;
}

/**
 * How far a reminder has come, compared in order: finished (delivered or cancelled, final), then
 * occurrences delivered, then failed tries of the current one. Every change the scheduler makes
 * moves it forward or leaves it where it was (a retry moves only `retry_at`).
 */
function progress(r: Reminder): readonly [number, number, number] {
  return [r.state === "pending" ? 0 : 1, r.delivered_count, r.attempt_count];
}

/**
 * Whether `next` may replace `known` (the same reminder): it is not behind it. A copy held back
 * behind a cold load, or a late reply, may be older than what the page already has; it is not
 * applied, so a reminder never goes back (delivered to failing, cancelled to pending). Of two
 * copies equally far along, the later one to arrive wins (a retry's new `retry_at`).
 */
export function notBehind(known: Reminder, next: Reminder): boolean {
  const [a, b] = [progress(known), progress(next)];
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i] ?? 0, b[i] ?? 0];
    if (x !== y) return y > x;
  }
  return true;
}

/**
 * `known` with each of `incoming` put in by id unless it is behind the copy there; `known` itself
 * when none was taken (so a signal holding it need not change).
 */
export function mergeReminders(
  known: ReadonlyMap<ReminderId, Reminder>,
  incoming: Iterable<Reminder>,
): ReadonlyMap<ReminderId, Reminder> {
  let next: Map<ReminderId, Reminder> | null = null;
  for (const r of incoming) {
    const have = (next ?? known).get(r.id);
    if (have !== undefined && !notBehind(have, r)) continue;
    next ??= new Map(known);
    next.set(r.id, r);
  }
  return next ?? known;
}

/** When a finished reminder finished (its last delivery, or its cancel); its due time else. */
const finishedAt = (r: Reminder) => r.cancelled_at ?? r.last_delivered_at ?? r.due_at;

/**
 * The order of an agent's list: pending ones first, soonest due first (a failing one's current
 * occurrence is overdue, so it leads), then delivered and cancelled ones, the latest first — the
 * scheduler's own order.
 */
export function reminderOrder(a: Reminder, b: Reminder): number {
  const pa = a.state === "pending" ? 0 : 1;
  const pb = b.state === "pending" ? 0 : 1;
  if (pa !== pb) return pa - pb;
  if (pa === 0) return a.due_at - b.due_at || a.id - b.id;
  return finishedAt(b) - finishedAt(a) || b.id - a.id;
}
