import { setMaxListeners } from "node:events";
import { setTimeout as realDelay } from "node:timers/promises";
import {
  type Cancel,
  type Clock,
  ErrorCode,
  HiveError,
  type Logger,
  type NatsConnection,
  type Reminder,
  type RetryPolicy,
  request,
  retryDelay,
  retryPolicy,
  rpcs,
  subjects,
  toWireError,
} from "@hyperhive/shared";
import type { ReminderEvents } from "./events.js";
import { type Occurrence, occurrence } from "./message.js";
import type { ReminderStore } from "./store.js";

/** Failed tries are retried after 1 s, doubling up to 5 minutes, for as long as it takes. */
export const DELIVERY_RETRY = retryPolicy({ initialMs: 1000, factor: 2, maxMs: 5 * 60_000 });
/** Deliveries on the way at once: those that fall due together go out together, this many. */
export const MAX_IN_FLIGHT = 64;
/** How long the broker may take to answer one send. */
const SEND_TIMEOUT_MS = 5000;
/** The longest one timer waits (setTimeout's limit); a later one is re-armed on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DeliveryOptions {
  nc: NatsConnection;
  store: ReminderStore;
  events: ReminderEvents;
  log: Logger;
  clock: Clock;
  /** The hive's agents (undefined while unknown): a reminder of anyone else is cancelled. */
  roster: () => ReadonlySet<string> | undefined;
  retry?: RetryPolicy;
  /** Told on every pump: sweeps finished reminders now and then (no timer of its own). */
  retention?: { maybe(): void };
  maxInFlight?: number;
  sendTimeoutMs?: number;
}

/**
 * Delivers due reminders into their owners' inboxes, exactly once per occurrence. Each one is a
 * `hive.sched.send` with the client id `reminder-<id>-<occurrence>-<tag>` (the tag is the
 * file's, drawn when it was created), recorded only after the
 * broker's reply: a crash in between sends the same client id again at the next start, and the
 * broker answers `duplicate` instead of storing it twice.
 *
 * ONE timer, for the earliest time a pending reminder is next tried (its due time, or its retry
 * time after a failure), found by one index probe and re-armed whenever that may have changed;
 * nothing polls, and a hundred thousand pending reminders cost the rows in sqlite and no memory
 * here. When it fires, the reminders then due go out together, at most `maxInFlight` at a time,
 * the next taken as each is answered.
 */
export class Deliverer {
  readonly #o: DeliveryOptions;
  readonly #policy: RetryPolicy;
  readonly #max: number;
  readonly #inflight = new Map<number, Promise<void>>();
  /** Reminders whose outcome could not be recorded: left alone until the next start. */
  readonly #stuck = new Set<number>();
  readonly #abort = new AbortController();
  #timer: { at: number; cancel: Cancel } | undefined;
  #running = false;
  #soon = false;

  constructor(o: DeliveryOptions) {
    this.#o = o;
    this.#policy = o.retry ?? DELIVERY_RETRY;
    this.#max = o.maxInFlight ?? MAX_IN_FLIGHT;
    // Every send on the way listens to it.
    setMaxListeners(this.#max + 1, this.#abort.signal);
  }

  /** Deliveries on the way now. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** Whether reminder `id` is on the way now. */
  sending(id: number): boolean {
    return this.#inflight.has(id);
  }

  /** When the timer is armed for (unix ms), if it is. */
  get armedFor(): number | undefined {
    return this.#timer?.at;
  }

  /** Sends what is due already (overdue at start: late, once) and arms the timer. */
  start(): void {
    this.#running = true;
    this.#pump(this.#o.clock.now());
  }

  /** Something changed (a reminder set, cancelled, retried): deliver what is due, re-arm. */
  changed(): void {
    this.#pump(this.#o.clock.now());
  }

  /**
   * Takes no new delivery and disarms the timer; lets those on the way finish for up to
   * `graceMs` (real time), then abandons the rest unrecorded. An abandoned one may have reached
   * the broker: the next start sends it again with the same client id, which the broker answers
   * `duplicate` — so a stop never delivers anything twice.
   */
  async stop(graceMs: number): Promise<void> {
    this.#running = false;
    this.#disarm();
    const all = Promise.allSettled([...this.#inflight.values()]);
    const grace = new AbortController();
    await Promise.race([
      all,
      realDelay(graceMs, undefined, { signal: grace.signal }).catch(() => {}),
    ]);
    grace.abort();
    this.#abort.abort();
    await all;
  }

  /** Cancels the pending reminders of agents that left the hive (not those on the way). */
  dropOwners(owners: readonly string[]): void {
    for (const owner of owners) {
      for (const id of this.#o.store.pendingIds(owner)) {
        if (!this.#inflight.has(id)) this.#ownerGone(id, owner);
      }
    }
    this.changed();
  }

  /** Starts what is due by `horizon` (while there is room), then arms the timer. */
  #pump(horizon: number): void {
    if (!this.#running) return;
    this.#o.retention?.maybe();
    const room = this.#max - this.#inflight.size;
    if (room > 0) {
      const due = this.#o.store.due(horizon, room + this.#skipped).filter((r) => !this.#skip(r.id));
      for (const r of due.slice(0, room)) this.#deliver(r);
    }
    this.#arm();
  }

  /** Runs a pump once the current I/O callbacks are done (answers that came together share it). */
  #pumpSoon(): void {
    if (this.#soon) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      this.#pump(this.#o.clock.now());
    });
  }

  #arm(): void {
    // Full: each answer pumps again, so no timer is needed until there is room.
    if (this.#inflight.size >= this.#max) {
      this.#disarm();
      return;
    }
    const next = this.#o.store.earliest(this.#skipped + 1).find((e) => !this.#skip(e.id));
    if (!next) {
      this.#disarm();
      return;
    }
    if (this.#timer?.at === next.next_at) return;
    this.#disarm();
    const { clock } = this.#o;
    const at = next.next_at;
    // To the fraction of a millisecond: armed on whole ones, it would fire ~0.5 ms late on average.
    const wait = Math.max(0, clock.msUntil(at));
    const capped = wait > MAX_TIMER_MS;
    const cancel = clock.schedule(capped ? MAX_TIMER_MS : wait, () => {
      this.#timer = undefined;
      // A timer may fire a hair before the clock reads `at`: what it was armed for is due.
      this.#pump(capped ? clock.now() : Math.max(clock.now(), at));
    });
    this.#timer = { at, cancel };
  }

  /** On the way, or stuck: not to be started again now. */
  #skip(id: number): boolean {
    return this.#inflight.has(id) || this.#stuck.has(id);
  }

  get #skipped(): number {
    return this.#inflight.size + this.#stuck.size;
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #deliver(r: Reminder): void {
    const roster = this.#o.roster();
    if (roster !== undefined && !roster.has(r.owner)) {
      this.#ownerGone(r.id, r.owner);
      return;
    }
    const occ = occurrence(r, this.#o.clock.now(), this.#o.store.tag);
    const p = this.#send(r, occ)
      .catch((e: unknown) => {
        // Recording the outcome failed (the file): not tried again in a tight loop; the next
        // start sends it again, with the same client id.
        this.#stuck.add(r.id);
        this.#o.log.error({ err: e, id: r.id }, "could not record a delivery's outcome");
      })
      .finally(() => {
        this.#inflight.delete(r.id);
        this.#pumpSoon();
      });
    this.#inflight.set(r.id, p);
  }

  async #send(r: Reminder, occ: Occurrence): Promise<void> {
    const { nc, store, events, clock, log } = this.#o;
    try {
      await request(
        nc,
        subjects.sched.send,
        rpcs.send,
        { to: r.owner, body: occ.body, client_id: occ.clientId },
        { timeoutMs: this.#o.sendTimeoutMs ?? SEND_TIMEOUT_MS, signal: this.#abort.signal },
      );
    } catch (e) {
      // Abandoned by a stop: left as it is for the next start (same client id).
      if (this.#abort.signal.aborted) return;
      this.#failed(r, occ, e);
      return;
    }
    if (store.delivered(r.id, occ.n, clock.now(), occ.next)) {
      events.changed(r.id);
      log.debug({ id: r.id, owner: r.owner, occurrence: occ.n }, "reminder delivered");
    }
  }

  /**
   * A failed try: retried after the policy's pause, the error and the count kept. The broker's
   * `not_found` means the owner is not on its roster: when ours lacks it too (or we know none),
   * the owner left the hive and the reminder is cancelled rather than retried forever.
   */
  #failed(r: Reminder, occ: Occurrence, e: unknown): void {
    const { store, events, clock, log } = this.#o;
    const roster = this.#o.roster();
    if (HiveError.is(e, ErrorCode.NotFound) && !roster?.has(r.owner)) {
      this.#ownerGone(r.id, r.owner);
      return;
    }
    const w = toWireError(e);
    const attempt = r.attempt_count + 1;
    const pause = retryDelay(this.#policy, attempt);
    const error = `${w.code}: ${w.message}`;
    if (store.failed(r.id, occ.n, error, clock.now() + pause)) {
      events.changed(r.id);
      log.warn({ id: r.id, owner: r.owner, attempt, retryInMs: pause, error }, "delivery failed");
    }
  }

  #ownerGone(id: number, owner: string): void {
    const why = `cancelled: ${owner} is no longer in the hive (destroyed)`;
    if (this.#o.store.cancel(id, this.#o.clock.now(), why)) {
      this.#o.events.changed(id);
      this.#o.log.info({ id, owner }, "reminder of an agent that left the hive cancelled");
    }
  }
}
