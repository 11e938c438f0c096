import {
  type OperatorRemindersRequest,
  type OperatorRemindRequest,
  type Reminder,
  type ReminderCounts,
  type RemindersResponse,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { askHive } from "./client.js";
import type { Output } from "./output.js";
import { ago, cell, inTime, table, utc } from "./table.js";
import { formatDuration } from "./when.js";

/**
 * `hive reminders`, `hive remind`, `hive cancel-reminder`, `hive retry-reminder`: the operator's
 * side of the scheduler. A due reminder lands in its owner's inbox as a message from `reminder`;
 * one whose delivery keeps failing is retried with backoff, and shown here until it lands.
 */

/** Whether the current occurrence failed at least once and waits for another try. */
export function isFailing(r: Reminder): boolean {
  return r.state === "pending" && r.attempt_count > 0;
}

/** A time and how far it is from now: `2026-11-22 10:00:02 (in 2s)`, `… (5m ago)`. */
function when(at: number, now: number): string {
  return `${utc(at)} (${at >= now ? inTime(at - now) : ago(now - at)})`;
}

/** A reminder's text in a line: at most `max` characters, quoted. */
function quoted(r: Reminder, max = 60): string {
  return JSON.stringify(cell(r.body, max));
}

function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

/** Where it stands: `pending`, `FAILING` (to stand out), `delivered`, `cancelled`. */
function stateCell(r: Reminder): string {
  return isFailing(r) ? "FAILING" : r.state;
}

/**
 * The line under the table for a failing reminder: its tries, the last error, the next try and
 * how to try now.
 */
export function failingLine(r: Reminder, now: number): string {
  const tries = `${r.attempt_count} failed ${r.attempt_count === 1 ? "try" : "tries"}`;
  const next = r.retry_at === null ? "" : `; next try ${when(r.retry_at, now)}`;
  return (
    `FAILING #${r.id} for ${r.owner}: ${tries}, the last: ${r.last_error ?? "(no error kept)"}` +
    `${next}; hive retry-reminder ${r.id} tries it now`
  );
}

/** What a list says when it is empty. */
function nothing(req: OperatorRemindersRequest): string {
  const of = req.agent === undefined ? "" : ` for ${req.agent}`;
  return req.all ? `(no reminders${of})` : `(no pending reminders${of})`;
}

/**
 * The reminders as the operator reads them, in the scheduler's order (pending soonest first,
 * then with `all` the finished ones newest first): a table, then a line for each failing one,
 * then one line when the list was cut.
 */
export function formatReminders(
  res: RemindersResponse,
  req: OperatorRemindersRequest,
  now: number,
): string {
  const rs = res.reminders;
  const lines: string[] = [];
  if (rs.length === 0) lines.push(nothing(req));
  else {
    lines.push(
      table([
        ["ID", "AGENT", "DUE", "EVERY", "STATE", "DELIVERED", "TEXT"],
        ...rs.map((r) => [
          String(r.id),
          r.owner,
          when(r.due_at, now),
          r.every_seconds === null ? "-" : formatDuration(r.every_seconds),
          stateCell(r),
          String(r.delivered_count),
          cell(r.body, 48),
        ]),
      ]),
    );
    lines.push(...rs.filter(isFailing).map((r) => failingLine(r, now)));
  }
  if (res.truncated) {
    lines.push(
      `(truncated: there are more than these ${rs.length}; narrow it with --agent NAME, or raise --limit, up to 1000)`,
    );
  }
  return lines.join("\n");
}

/** `hive reminders [--agent NAME] [--all] [--limit N]`: a read, tried again when it may mend. */
export async function reminders(
  root: string,
  req: OperatorRemindersRequest,
  out: Output,
): Promise<void> {
  const res = await askHive(root, subjects.op.reminders, rpcs.opReminders, req);
  out.result(res, formatReminders(res, req, Date.now()));
}

/**
 * `hive remind <agent> <when> <body> [--every DURATION]`. It carries no client id, so it is sent
 * again only when nobody took it: a second try must not set a second reminder.
 */
export async function remind(root: string, req: OperatorRemindRequest, out: Output): Promise<void> {
  const res = await askHive(root, subjects.op.remind, rpcs.opRemind, req, { retryOn: "unheard" });
  const r = res.reminder;
  const every = r.every_seconds === null ? "" : `, then every ${formatDuration(r.every_seconds)}`;
  out.result(
    res,
    `set reminder #${r.id} for ${r.owner}: due ${when(r.due_at, Date.now())}${every}: ${quoted(r)}`,
  );
}

/** `hive cancel-reminder <id>`: any pending one; a repeating one stops for good. */
export async function cancelReminder(root: string, id: number, out: Output): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.cancelReminder,
    rpcs.opCancelReminder,
    { id },
    { retryOn: "unheard" },
  );
  const r = res.reminder;
  const tail =
    r.every_seconds === null
      ? "it will not fire"
      : `delivered ${times(r.delivered_count)}; it will not fire again`;
  out.result(res, `cancelled reminder #${r.id} for ${r.owner} (${quoted(r)}); ${tail}`);
}

/** `hive retry-reminder <id>`: a failing one is tried again now (else the scheduler's conflict). */
export async function retryReminder(root: string, id: number, out: Output): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.retryReminder,
    rpcs.opRetryReminder,
    { id },
    { retryOn: "unheard" },
  );
  const r = res.reminder;
  const tries = `${r.attempt_count} failed ${r.attempt_count === 1 ? "try" : "tries"} so far`;
  const last = r.last_error === null ? "" : `; the last: ${r.last_error}`;
  out.result(
    res,
    `reminder #${r.id} for ${r.owner} (${quoted(r)}): trying it again now (${tries}${last})`,
  );
}

/**
 * An agent's reminders in a cell of `hive agents`: `2 pending, 5 delivered, 1 FAILING`; `-` when
 * it has none.
 */
export function countsCell(c: ReminderCounts | undefined): string {
  if (c === undefined) return "-";
  const parts = [
    c.pending > 0 ? `${c.pending} pending` : "",
    c.delivered > 0 ? `${c.delivered} delivered` : "",
    c.failing > 0 ? `${c.failing} FAILING` : "",
  ].filter((p) => p !== "");
  return parts.length === 0 ? "-" : parts.join(", ");
}
