import {
  AgentName,
  type Clock,
  type Db,
  ErrorCode,
  HiveError,
  Lifecycle,
  type LifecycleState,
  type Logger,
  type NatsConnection,
  type RetryPolicy,
  RosterFollower,
  rpcs,
  type Service,
  serve,
  subjects,
  subjectToken,
  systemClock,
} from "@hyperhive/shared";
import { Deliverer } from "./delivery.js";
import { ReminderEvents } from "./events.js";
import { DEFAULT_LIMITS, type Limits, RateLimiter } from "./limits.js";
import { Reminders } from "./reminders.js";
import { Retention } from "./retention.js";
import { ReminderStore } from "./store.js";

/** Finished reminders are kept this long by default. */
const DEFAULT_RETENTION_MS = 30 * 86_400_000;
/** How long a stop lets deliveries on the way finish before it abandons them (unrecorded). */
const STOP_GRACE_MS = 3000;

export interface SchedulerOptions {
  nc: NatsConnection;
  /** An open database with the scheduler's {@link migrations} applied. */
  db: Db;
  log: Logger;
  clock?: Clock;
  /** Per-agent limits; default {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** How failed deliveries are retried; default `DELIVERY_RETRY`. */
  retry?: RetryPolicy;
  /** Deliveries on the way at once; default 64. */
  maxInFlight?: number;
  /** How long the broker may take to answer one delivery, ms; default 5000. */
  sendTimeoutMs?: number;
  /** How long a stop waits for deliveries on the way, ms (real time); default 3000. */
  stopGraceMs?: number;
  /** Finished reminders older than this are deleted, ms; 0 keeps them; default 30 days. */
  retentionMs?: number;
}

/**
 * The reminder service. Answers an agent's `hive.agent.<me>.remind|reminders|cancel_reminder`
 * (the caller is the subject's second token, never the payload) and the operator's
 * `hive.op.reminders|remind|cancel_reminder|retry_reminder|reminder_counts`; follows c0re's
 * roster; delivers due reminders through the broker ({@link Deliverer}); publishes every change
 * on `hive.events.reminders`.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #life = new Lifecycle("scheduler");
  readonly #store: ReminderStore;
  readonly #roster: RosterFollower;
  readonly #deliverer: Deliverer;
  readonly #reminders: Reminders;
  #services: Service[] = [];

  constructor(o: SchedulerOptions) {
    this.#o = o;
    const clock = o.clock ?? systemClock;
    const limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.#store = new ReminderStore(o.db);
    const events = new ReminderEvents({ nc: o.nc, store: this.#store, log: o.log });
    this.#roster = new RosterFollower({
      ...o,
      clock,
      onLeft: (names) => this.#deliverer.dropOwners(names),
    });
    const roster = () => this.#roster.agents;
    this.#deliverer = new Deliverer({
      nc: o.nc,
      store: this.#store,
      events,
      log: o.log,
      clock,
      roster,
      retention: new Retention({
        store: this.#store,
        clock,
        log: o.log,
        maxAgeMs: o.retentionMs ?? DEFAULT_RETENTION_MS,
      }),
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}),
      ...(o.sendTimeoutMs ? { sendTimeoutMs: o.sendTimeoutMs } : {}),
    });
    this.#reminders = new Reminders({
      store: this.#store,
      events,
      deliverer: this.#deliverer,
      limits,
      rate: new RateLimiter(limits, clock),
      clock,
      roster,
    });
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /** The store (tests and diagnostics read reminders and counts through it). */
  get store(): ReminderStore {
    return this.#store;
  }

  /** The delivery side (tests look at what is on the way and what the timer is armed for). */
  get deliverer(): Deliverer {
    return this.#deliverer;
  }

  /** The roster the scheduler goes by (undefined until c0re has said one). */
  get roster(): ReadonlySet<string> | undefined {
    return this.#roster.agents;
  }

  /**
   * Follows the roster, serves every subject, then delivers what is overdue and arms the timer;
   * resolves once the server has the subscriptions.
   */
  start(): Promise<void> {
    return this.#life.start(async () => {
      const { nc, log } = this.#o;
      const w = subjects.agentWildcard;
      const op = subjects.op;
      const rs = this.#reminders;
      const opts = { log };
      await this.#roster.start();
      this.#services = [
        serve(
          nc,
          w.remind,
          rpcs.remind,
          (r, m) => ({ reminder: rs.remind(caller(m.subject), r) }),
          opts,
        ),
        serve(
          nc,
          w.reminders,
          rpcs.myReminders,
          (r, m) => rs.mine(caller(m.subject), r.all ?? false),
          opts,
        ),
        serve(
          nc,
          w.cancelReminder,
          rpcs.cancelReminder,
          (r, m) => ({ reminder: rs.cancelOwn(caller(m.subject), r.id) }),
          opts,
        ),
        serve(nc, op.reminders, rpcs.opReminders, (r) => rs.forOperator(r), opts),
        serve(nc, op.remind, rpcs.opRemind, (r) => ({ reminder: rs.remindFor(r.agent, r) }), opts),
        serve(
          nc,
          op.cancelReminder,
          rpcs.opCancelReminder,
          (r) => ({ reminder: rs.cancelAny(r.id) }),
          opts,
        ),
        serve(
          nc,
          op.retryReminder,
          rpcs.opRetryReminder,
          (r) => ({ reminder: rs.retry(r.id) }),
          opts,
        ),
        serve(nc, op.reminderCounts, rpcs.opReminderCounts, () => ({ counts: rs.counts() }), opts),
      ];
      await nc.flush();
      this.#deliverer.start();
      log.info(
        { subjects: this.#services.map((s) => s.subject), pending: this.#store.pendingTotal() },
        "scheduler serving",
      );
    });
  }

  /**
   * Stops taking requests (every subscription drained, handlers in flight finished), stops
   * delivering (those on the way finish or are left, unrecorded, for the next start: nothing is
   * delivered twice), then stops following the roster. Safe to call twice.
   */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      // Both at once: no new delivery starts while the subscriptions drain.
      await Promise.allSettled([
        ...this.#services.map((s) => s.stop()),
        this.#deliverer.stop(this.#o.stopGraceMs ?? STOP_GRACE_MS),
      ]);
      this.#services = [];
      await this.#roster.stop();
      this.#o.log.info("scheduler stopped");
    });
  }
}

/** The calling agent: the second token of `hive.agent.<name>.<verb>`, validated. */
function caller(subject: string): AgentName {
  const token = subjectToken(subject, 2) ?? "";
  const parsed = AgentName.safeParse(token);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => i.message).join("; ");
    throw new HiveError(
      ErrorCode.BadRequest,
      `subject ${subject}: "${token}" is not a valid agent name (${why})`,
    );
  }
  return parsed.data;
}
