import {
  ErrorCode,
  HiveError,
  OPERATOR,
  type Reminder,
  type ReminderCounts,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { UNTOUCHED_REMINDER } from "@hyperhive/shared/testing";
import type { StandIns } from "./standins.js";

/**
 * A stand-in for the scheduler's operator subjects (`hive.op.reminders`, `remind`,
 * `cancel_reminder`, `retry_reminder`, `reminder_counts`), answering with the real schemas and
 * deciding and wording refusals as the scheduler does: reminders only for agents on the roster,
 * an `at` in the past refused, only a pending one cancelled, only a failing one retried; pending
 * ones soonest first, then finished ones newest first; `limit` cuts the list (`truncated`).
 */

/**
 * The time the samples are relative to: when the current test started (restarted
 * in a beforeEach), so "in 10m" still reads 10m however long the tests before it took.
 */
export let T0 = Date.now();

/** Puts {@link T0} at now; the samples are worked out from it when asked for. */
export function restartSampleClock(): void {
  T0 = Date.now();
}

/** The agents the stand-in's roster holds. */
const ROSTER = ["alice", "carol", "manager"];

/** The last error of the failing sample. */
export const FAILING_ERROR = "unavailable: no responders on hive.sched.send (is the broker up?)";

const base = {
  created_by: OPERATOR,
  created_at: T0 - 86_400_000,
  ...UNTOUCHED_REMINDER,
} as const;

/**
 * The samples in the scheduler's order: #3 alice's daily one, failing (3 tries; due a minute
 * ago), #4 the manager's in 2 minutes, #2 alice's every 90 minutes (delivered 4 times), then
 * the finished ones newest first: #5 carol's cancelled, #1 the manager's delivered.
 */
export function sampleReminders(): Reminder[] {
  return [
    {
      ...base,
      id: 3,
      owner: "alice",
      body: "standup notes",
      created_by: "alice",
      due_at: T0 - 60_000,
      every_seconds: 86_400,
      delivered_count: 2,
      last_delivered_at: T0 - 86_460_000,
      attempt_count: 3,
      last_error: FAILING_ERROR,
      retry_at: T0 + 600_000,
    },
    { ...base, id: 4, owner: "manager", body: "check the build", due_at: T0 + 120_000 },
    {
      ...base,
      id: 2,
      owner: "alice",
      body: "water the plants\nthe ones by the window",
      created_by: "alice",
      due_at: T0 + 3_600_000,
      every_seconds: 5400,
      delivered_count: 4,
      last_delivered_at: T0 - 1_800_000,
    },
    {
      ...base,
      id: 5,
      owner: "carol",
      body: "ping bob",
      due_at: T0 + 7_200_000,
      state: "cancelled",
      cancelled_at: T0 - 300_000,
    },
    {
      ...base,
      id: 1,
      owner: "manager",
      body: "read the notes",
      due_at: T0 - 7_200_000,
      state: "delivered",
      delivered_count: 1,
      last_delivered_at: T0 - 7_200_000,
    },
  ];
}

/** What the scheduler stand-in holds; a test changes it. */
export interface ReminderState {
  reminders: Map<number, Reminder>;
  /** `reminder_counts` answers `unavailable` (a scheduler away). */
  schedulerDown: boolean;
}

export function freshReminders(): ReminderState {
  return {
    reminders: new Map(sampleReminders().map((r) => [r.id, r])),
    schedulerDown: false,
  };
}

/** The scheduler's order: pending soonest first, then (with all) finished ones newest first. */
function listed(s: ReminderState, r: { agent?: string; all?: boolean; limit?: number }) {
  const mine = [...s.reminders.values()].filter(
    (x) => r.agent === undefined || x.owner === r.agent,
  );
  const pending = mine.filter((x) => x.state === "pending").sort((a, b) => a.due_at - b.due_at);
  const ended = (x: Reminder) => x.cancelled_at ?? x.last_delivered_at ?? 0;
  const finished = mine.filter((x) => x.state !== "pending").sort((a, b) => ended(b) - ended(a));
  const all = r.all ? [...pending, ...finished] : pending;
  const limit = r.limit ?? 200;
  return { reminders: all.slice(0, limit), truncated: all.length > limit };
}

function pendingOne(s: ReminderState, id: number): Reminder {
  const r = s.reminders.get(id);
  if (!r) throw new HiveError(ErrorCode.NotFound, `no reminder #${id}`);
  if (r.state !== "pending") {
    throw new HiveError(ErrorCode.Conflict, `reminder #${id} was ${r.state} already`);
  }
  return r;
}

function counts(s: ReminderState): ReminderCounts[] {
  const by = new Map<string, ReminderCounts>();
  for (const r of s.reminders.values()) {
    const c = by.get(r.owner) ?? { agent: r.owner, pending: 0, delivered: 0, failing: 0 };
    if (r.state === "pending") c.pending++;
    if (r.state === "pending" && r.attempt_count > 0) c.failing++;
    c.delivered += r.delivered_count;
    by.set(r.owner, c);
  }
  return [...by.values()];
}

/** Answers the scheduler's operator subjects from `s`. */
export function standInScheduler(stand: StandIns, s: ReminderState): void {
  stand.on(subjects.op.reminders, rpcs.opReminders, (r) => listed(s, r));
  stand.on(subjects.op.remind, rpcs.opRemind, (r) => {
    if (!ROSTER.includes(r.agent)) {
      throw new HiveError(
        ErrorCode.NotFound,
        `no agent named ${r.agent}; the agents are: ${ROSTER.join(", ")}`,
      );
    }
    const now = Date.now();
    const due = r.at === undefined ? now + (r.in_seconds ?? 0) * 1000 : Date.parse(r.at);
    if (due < now) {
      throw new HiveError(ErrorCode.BadRequest, `at: ${r.at} is in the past`);
    }
    const id = Math.max(0, ...s.reminders.keys()) + 1;
    const reminder: Reminder = {
      ...base,
      id,
      owner: r.agent,
      body: r.body,
      created_at: now,
      due_at: due,
      every_seconds: r.every_seconds ?? null,
    };
    s.reminders.set(id, reminder);
    return { reminder };
  });
  stand.on(subjects.op.cancelReminder, rpcs.opCancelReminder, (r) => {
    const reminder: Reminder = {
      ...pendingOne(s, r.id),
      state: "cancelled",
      cancelled_at: Date.now(),
      retry_at: null,
    };
    s.reminders.set(r.id, reminder);
    return { reminder };
  });
  stand.on(subjects.op.retryReminder, rpcs.opRetryReminder, (r) => {
    const was = pendingOne(s, r.id);
    if (was.attempt_count === 0) {
      throw new HiveError(
        ErrorCode.Conflict,
        `reminder #${r.id} is not failing: it is due at ${new Date(was.due_at).toISOString()}`,
      );
    }
    const reminder: Reminder = { ...was, retry_at: Date.now() };
    s.reminders.set(r.id, reminder);
    return { reminder };
  });
  stand.on(subjects.op.reminderCounts, rpcs.opReminderCounts, () => {
    if (s.schedulerDown) {
      throw new HiveError(ErrorCode.Unavailable, "no responders on hive.op.reminder_counts");
    }
    return { counts: counts(s) };
  });
}
