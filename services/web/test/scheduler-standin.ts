import {
  ErrorCode,
  HiveError,
  type OperatorCancelReminderRequest,
  type OperatorRemindersRequest,
  type OperatorRemindRequest,
  publishEvent,
  type Reminder,
  type ReminderCounts,
  type ReminderCountsRequest,
  ReminderEvent,
  type RetryReminderRequest,
  rpcs,
  type Service,
  subjects,
} from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import type * as z from "zod";
import { reminder } from "./fixtures.js";
import { type Recorder, record } from "./helpers.js";

const failing = (r: Reminder) => r.state === "pending" && r.attempt_count > 0;

/** The scheduler's order: pending soonest due first, then finished ones, the latest first. */
const order = (a: Reminder, b: Reminder) => {
  const done = (r: Reminder) => (r.state === "pending" ? 0 : 1);
  if (done(a) !== done(b)) return done(a) - done(b);
  if (done(a) === 0) return a.due_at - b.due_at;
  return b.id - a.id;
};

/**
 * A stand-in for the scheduler on NATS: its five operator subjects over reminders kept in memory,
 * every request recorded, and each change published as the scheduler does — on
 * `hive.events.reminders`, with the owner's counts after it.
 */
export class SchedulerStandIn {
  /** The reminders, by id. */
  readonly reminders = new Map<number, Reminder>();
  readonly list: Recorder<OperatorRemindersRequest>;
  readonly counts: Recorder<z.infer<typeof ReminderCountsRequest>>;
  readonly remind: Recorder<OperatorRemindRequest>;
  readonly cancel: Recorder<z.infer<typeof OperatorCancelReminderRequest>>;
  readonly retry: Recorder<RetryReminderRequest>;
  /** When set, every remind is refused with it (the scheduler's limits). */
  refusal: HiveError | null = null;
  readonly #nc: NatsConnection;
  readonly #agents: ReadonlySet<string>;
  #nextId = 100;

  constructor(nc: NatsConnection, agents: readonly string[], initial: readonly Reminder[] = []) {
    this.#nc = nc;
    this.#agents = new Set(agents);
    for (const r of initial) this.reminders.set(r.id, r);
    this.list = record(nc, subjects.op.reminders, rpcs.opReminders, (req) => {
      const all = [...this.reminders.values()]
        .filter((r) => req.agent === undefined || r.owner === req.agent)
        .filter((r) => req.all === true || r.state === "pending")
        .sort(order);
      const limit = req.limit ?? 200;
      return { reminders: all.slice(0, limit), truncated: all.length > limit };
    });
    this.counts = record(nc, subjects.op.reminderCounts, rpcs.opReminderCounts, () => ({
      counts: [...new Set([...this.reminders.values()].map((r) => r.owner))]
        .sort()
        .map((a) => this.countsOf(a)),
    }));
    this.remind = record(nc, subjects.op.remind, rpcs.opRemind, (req) => {
      if (this.refusal) throw this.refusal;
      if (!this.#agents.has(req.agent)) {
        throw new HiveError(ErrorCode.NotFound, `no agent named ${req.agent}`);
      }
      const due =
        req.at === undefined ? Date.now() + (req.in_seconds ?? 0) * 1000 : Date.parse(req.at);
      const r = reminder(this.#nextId++, req.agent, {
        body: req.body,
        created_at: Date.now(),
        due_at: due,
        every_seconds: req.every_seconds ?? null,
      });
      return { reminder: this.change(r) };
    });
    this.cancel = record(nc, subjects.op.cancelReminder, rpcs.opCancelReminder, (req) => {
      const r = this.#pending(req.id);
      return { reminder: this.change({ ...r, state: "cancelled", cancelled_at: Date.now() }) };
    });
    this.retry = record(nc, subjects.op.retryReminder, rpcs.opRetryReminder, (req) => {
      const r = this.#pending(req.id);
      if (r.attempt_count === 0) {
        throw new HiveError(ErrorCode.Conflict, `reminder #${req.id} is not failing`);
      }
      return { reminder: this.change({ ...r, retry_at: Date.now() }) };
    });
  }

  /** `agent`'s counts now: pending, delivered (every occurrence), failing. */
  countsOf(agent: string): ReminderCounts {
    const mine = [...this.reminders.values()].filter((r) => r.owner === agent);
    return {
      agent,
      pending: mine.filter((r) => r.state === "pending").length,
      delivered: mine.reduce((n, r) => n + r.delivered_count, 0),
      failing: mine.filter(failing).length,
    };
  }

  /** Keeps `r` and publishes its event with its owner's counts, as the scheduler does. */
  change(r: Reminder): Reminder {
    this.reminders.set(r.id, r);
    publishEvent(this.#nc, subjects.events.reminders, ReminderEvent, {
      reminder: r,
      counts: this.countsOf(r.owner),
    });
    return r;
  }

  /** The reminder `id` as it is now (it must be there). */
  get(id: number): Reminder {
    const r = this.reminders.get(id);
    if (r === undefined) throw new Error(`the stand-in has no reminder #${id}`);
    return r;
  }

  /** Its subjects' services, to stop after the tests. */
  services(): Service[] {
    return [this.list, this.counts, this.remind, this.cancel, this.retry].map((r) => r.service);
  }

  /** Stops serving. */
  async stop(): Promise<void> {
    await Promise.all(this.services().map((s) => s.stop()));
  }

  #pending(id: number): Reminder {
    const r = this.reminders.get(id);
    if (r === undefined) throw new HiveError(ErrorCode.NotFound, `no reminder #${id}`);
    if (r.state !== "pending") {
      throw new HiveError(ErrorCode.Conflict, `reminder #${id} is ${r.state} already`);
    }
    return r;
  }
}
