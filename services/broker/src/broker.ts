import {
  type AckRequest,
  type AckResponse,
  AgentName,
  BROADCAST,
  BroadcastAnnouncement,
  bodyBytes,
  type Clock,
  type Db,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RECV_WAIT_SECONDS,
  DeliveryEvent,
  ErrorCode,
  type ExtendRequest,
  type ExtendResponse,
  type HistoryRequest,
  type HistoryResponse,
  HiveError,
  InboxAnnouncement,
  type InboxListRequest,
  type InboxListResponse,
  Lifecycle,
  type LifecycleState,
  type Logger,
  MAX_BODY_BYTES,
  MAX_RECV_WAIT_SECONDS,
  type NatsConnection,
  OPERATOR,
  preview,
  publishEvent,
  REMINDER,
  type RecvBatchRequest,
  type RecvBatchResponse,
  type RecvRequest,
  type RecvResponse,
  type ReleaseResponse,
  RosterFollower,
  rpcs,
  type SendRequest,
  type SendResponse,
  type Service,
  SYSTEM,
  serve,
  subjects,
  subjectToken,
  systemClock,
} from "@hyperhive/shared";
import { type BatchEffects, CommitQueue } from "./commit-queue.js";
import { type Delivered, RecvDispatcher } from "./dispatcher.js";
import { HistoryStore } from "./history.js";
import { Retention, type RetentionOptions } from "./retention.js";
import { MessageStore } from "./store.js";
import { WalSync } from "./wal-sync.js";

/** See {@link Broker.stats}. */
export interface BrokerStats {
  /** Batches committed, and operations in them. */
  batches: number;
  ops: number;
  /** Batches that waited for the disk, and the fsyncs they shared. */
  durableBatches: number;
  fsyncs: number;
  /** Leases tried for parked recvs. */
  leaseAttempts: number;
}

export interface BrokerOptions {
  nc: NatsConnection;
  /** An open database with the broker's {@link migrations} applied. */
  db: Db;
  log: Logger;
  clock?: Clock;
  /** The retention sweep; default: acked mail older than 30 days, swept hourly. */
  retention?: Partial<RetentionOptions>;
}

/**
 * The message `body_too_large` carries: what to do instead, in terms that fit the sender. Every
 * agent reads and writes the shared dir, and the operator reads it; an agent's state dir is read
 * by the operator alone (through c0re).
 */
export function bodyTooLargeMessage(bytes: number, from: string): string {
  const over = `message body is ${bytes} bytes; the inline limit is ${MAX_BODY_BYTES} bytes.`;
  if (from === OPERATOR) {
    return (
      `${over} Send a shorter message, or put the content in a world-readable file in the ` +
      `hive's shared dir (<hive root>/shared: every agent reads it) and send its path.`
    );
  }
  // Agents run in sandboxes of their own: another agent reads the sender's files only in the
  // shared dir.
  return (
    `${over} Split it over several messages, or write it to a world-readable file in the ` +
    `hive's shared dir (every agent and the operator read it; whoami says where) and send its ` +
    `path; for the operator alone, a file in your state dir will do.`
  );
}

/**
 * Durable per-agent inboxes over NATS. Answers the agents' `send`/`recv`/`recv_batch`/`ack`/
 * `extend`/`release` (caller = the subject's second token), the operator's, system's (c0re) and
 * reminder's (the scheduler) `send`,
 * the operator's inbox and history. Every write goes through one group commit
 * ({@link CommitQueue}): a send is replied to only after its batch is committed and its WAL
 * fsynced; leases, acks and extends are answered at their commit, before any fsync (a power cut
 * that takes one back takes back the unsynced send before it too: a redelivery, which
 * at-least-once allows), so a message reaches a parked recv one commit after its send. recv leases a message and
 * long-polls when nothing is deliverable; a broadcast (`to: "*"`) is one row with a receipt per
 * agent on c0re's roster but the sender. Mail goes only to agents on that roster.
 */
export class Broker {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #store: MessageStore;
  readonly #history: HistoryStore;
  readonly #queue: CommitQueue;
  readonly #wal: WalSync | undefined;
  readonly #dispatcher: RecvDispatcher;
  readonly #roster: RosterFollower;
  readonly #retention: Retention;
  readonly #life = new Lifecycle("broker");
  #services: Service[] = [];
  #deliveries: DeliveryEvent[] = [];

  constructor(opts: BrokerOptions) {
    this.#nc = opts.nc;
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    this.#store = new MessageStore(opts.db);
    this.#history = new HistoryStore(opts.db);
    this.#dispatcher = new RecvDispatcher({
      store: this.#store,
      clock: this.#clock,
      kick: () => this.#queue.kick(),
      delivery: (ev) => this.#delivery(ev),
    });
    this.#wal = opts.db.memory ? undefined : new WalSync(opts.db.name);
    this.#queue = new CommitQueue({
      db: opts.db,
      log: opts.log,
      wal: this.#wal,
      beforeCommit: (fx) => this.#dispatcher.dispatch(fx),
    });
    this.#roster = new RosterFollower({
      ...opts,
      clock: this.#clock,
      onLeft: (agents) => void this.#left(agents),
    });
    this.#retention = new Retention({
      history: this.#history,
      queue: this.#queue,
      clock: this.#clock,
      log: opts.log,
      ...opts.retention,
    });
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /**
   * Since the start: batches committed, operations in them, batches fsynced, and leases tried
   * for parked recvs (benchmarks, diagnostics, and the tests of group commit and of waking one
   * recv per message).
   */
  get stats(): BrokerStats {
    return { ...this.#queue.stats, ...this.#dispatcher.stats };
  }

  /** Subscribes to every broker subject; resolves once the server has the subscriptions. */
  start(): Promise<void> {
    return this.#life.start(async () => {
      const nc = this.#nc;
      const w = subjects.agentWildcard;
      const opts = { log: this.#log };
      const as = (subject: string) => caller(subject);
      await this.#roster.start();
      this.#services = [
        serve(nc, w.send, rpcs.send, (req, msg) => this.#send(as(msg.subject), req), opts),
        serve(nc, subjects.op.send, rpcs.send, (req) => this.#send(OPERATOR, req), opts),
        serve(nc, subjects.sys.send, rpcs.send, (req) => this.#send(SYSTEM, req), opts),
        serve(nc, subjects.sched.send, rpcs.send, (req) => this.#send(REMINDER, req), opts),
        serve(nc, w.recv, rpcs.recv, (req, msg) => this.#recv(as(msg.subject), req), opts),
        serve(
          nc,
          w.recvBatch,
          rpcs.recvBatch,
          (req, msg) => this.#recvBatch(as(msg.subject), req),
          opts,
        ),
        serve(nc, w.ack, rpcs.ack, (req, msg) => this.#ack(as(msg.subject), req), opts),
        serve(nc, w.extend, rpcs.extend, (req, msg) => this.#extend(as(msg.subject), req), opts),
        serve(nc, w.release, rpcs.release, (_req, msg) => this.#release(as(msg.subject)), opts),
        serve(nc, subjects.op.inbox, rpcs.opInbox, (req) => this.#opInbox(req), opts),
        serve(nc, subjects.op.history, rpcs.opHistory, (req) => this.#opHistory(req), opts),
      ];
      await nc.flush();
      void this.#dismissOnReconnect();
      this.#retention.start();
      this.#log.info({ subjects: this.#services.map((s) => s.subject) }, "broker serving");
    });
  }

  /**
   * Stops taking requests: parked long-polls are answered (empty) at once, every subscription is
   * drained, in-flight handlers finish and the last batch commits. Safe to call twice.
   */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      this.#retention.stop();
      this.#dispatcher.dismiss();
      await Promise.allSettled(this.#services.map((s) => s.stop()));
      this.#services = [];
      await this.#queue.idle();
      await this.#wal?.close();
      await this.#roster.stop();
      this.#log.info("broker stopped");
    });
  }

  /** How many recvs are long-polling for `agent` right now (diagnostics and tests). */
  waiting(agent: string): number {
    return this.#dispatcher.waiting(agent);
  }

  /** The roster the broker goes by (undefined until c0re has said one). */
  get roster(): ReadonlySet<string> | undefined {
    return this.#roster.agents;
  }

  /** Runs one retention sweep now (tests, and the operator's tools); resolves with the count. */
  sweep(): Promise<number> {
    return this.#retention.sweep();
  }

  /**
   * Who gets a receipt. Refuses mail nobody will read: to an agent not on the roster, from the
   * operator to itself, a broadcast while the roster is unknown.
   */
  #recipients(from: string, to: string): string[] {
    if (to === OPERATOR) {
      if (from === OPERATOR) {
        throw new HiveError(ErrorCode.BadRequest, "the operator cannot send mail to the operator");
      }
      return [to];
    }
    // c0re's own notices go to agents it has just registered, maybe before their roster event.
    if (to !== BROADCAST && (from === SYSTEM || to === from)) return [to];
    const roster = this.#roster.agents;
    if (roster === undefined) {
      throw new HiveError(
        ErrorCode.Unavailable,
        "the broker does not know the hive's agents yet (c0re has not told it); try again shortly",
      );
    }
    if (to === BROADCAST) return [...roster].filter((a) => a !== from).sort();
    if (!roster.has(to)) {
      const known = [...roster].sort().join(", ") || "none";
      throw new HiveError(ErrorCode.NotFound, `no agent named ${to}; the agents are: ${known}`);
    }
    return [to];
  }

  #send(from: string, req: SendRequest): Promise<SendResponse> {
    const recipients = this.#recipients(from, req.to);
    const bytes = bodyBytes(req.body);
    if (bytes > MAX_BODY_BYTES) {
      throw new HiveError(ErrorCode.BodyTooLarge, bodyTooLargeMessage(bytes, from));
    }
    return this.#queue.run(
      (fx) => {
        const r = this.#store.insert({
          from,
          to: req.to,
          body: req.body,
          recipients,
          clientId: req.client_id,
          inReplyTo: req.in_reply_to,
          now: this.#clock.now(),
        });
        if (r.duplicate) {
          this.#log.debug({ from, client_id: req.client_id, id: r.id }, "duplicate send");
          return r;
        }
        for (const a of recipients) this.#dispatcher.markDirty(a);
        fx.afterCommit(() => this.#announce(from, req, r, recipients));
        return r;
      },
      { durable: true },
    );
  }

  /** New mail, once committed: on `hive.inbox.<to>`, or once on `hive.broadcast`. */
  #announce(from: string, req: SendRequest, r: SendResponse, recipients: string[]): void {
    const ann = { id: r.id, from, to: req.to, preview: preview(req.body), sent_at: r.sent_at };
    if (req.to === BROADCAST) {
      publishEvent(this.#nc, subjects.broadcast, BroadcastAnnouncement, { ...ann, recipients });
    } else {
      publishEvent(this.#nc, subjects.inbox(req.to), InboxAnnouncement, ann);
    }
  }

  async #recv(agent: string, req: RecvRequest): Promise<RecvResponse> {
    const d = await this.#park(agent, 1, req);
    return { message: d.messages[0] ?? null, pending: d.pending };
  }

  #recvBatch(agent: string, req: RecvBatchRequest): Promise<RecvBatchResponse> {
    return this.#park(agent, req.max, req);
  }

  /** Parks a recv in the next batch; settles when mail is leased to it or its wait runs out. */
  #park(agent: string, max: number, req: RecvRequest): Promise<Delivered> {
    const leaseMs = (req.lease_seconds ?? DEFAULT_LEASE_SECONDS) * 1000;
    const wait = Math.min(req.wait_seconds ?? DEFAULT_RECV_WAIT_SECONDS, MAX_RECV_WAIT_SECONDS);
    return new Promise<Delivered>((resolve, reject) => {
      this.#queue
        .run(
          () => {
            if (!this.#life.running) {
              const pending = this.#store.pending(agent, this.#clock.now());
              resolve({ messages: [], pending });
              return;
            }
            this.#dispatcher.park({ agent, max, leaseMs, waitMs: wait * 1000, resolve, reject });
          },
          { durable: false },
        )
        .catch(reject);
    });
  }

  #ack(agent: string, req: AckRequest): Promise<AckResponse> {
    return this.#queue.run(
      (fx) => {
        const now = this.#clock.now();
        const r = this.#store.ack(agent, req.id, now);
        if (r.result === "not_found") {
          throw new HiveError(ErrorCode.NotFound, `no message ${req.id} addressed to ${agent}`);
        }
        if (r.result === "first") {
          fx.afterCommit(() =>
            this.#delivery({
              id: req.id,
              recipient: agent,
              state: "acked",
              deliveries: r.deliveries,
              at: now,
            }),
          );
        }
        return { id: req.id, first_ack: r.result === "first" };
      },
      { durable: false },
    );
  }

  #extend(agent: string, req: ExtendRequest): Promise<ExtendResponse> {
    return this.#queue.run(
      () => {
        const now = this.#clock.now();
        const leaseUntil = Math.ceil(now + req.lease_seconds * 1000);
        const extended = this.#store.extend(agent, req.ids, now, leaseUntil);
        // The agent's lease timer re-arms for the new earliest expiry.
        if (extended.length > 0) this.#dispatcher.markDirty(agent);
        return { extended };
      },
      { durable: false },
    );
  }

  #release(agent: string): Promise<ReleaseResponse> {
    return this.#queue.run(
      (fx: BatchEffects) => {
        const now = this.#clock.now();
        const released = this.#store.releaseAll(agent, now);
        if (released.length > 0) {
          this.#log.info({ agent, released }, "released the leases of a previous incarnation");
        }
        const events = released.map((id) => ({
          id,
          recipient: agent,
          state: "queued" as const,
          deliveries: this.#store.deliveries(agent, id),
          at: now,
        }));
        fx.afterCommit(() => {
          for (const ev of events) this.#delivery(ev);
        });
        // The previous incarnation's parked recvs answer empty (to nobody), so the next mail
        // goes to the caller's recv instead of leasing out to a dead reply subject.
        this.#dispatcher.dismiss(agent);
        return { released };
      },
      { durable: false },
    );
  }

  /**
   * After a reconnect every parked recv is answered empty. A reply is let through by the
   * server's allow_responses, which knows only the requests it delivered itself: a restarted
   * nats-server would refuse the answer to a recv parked before, and a message leased into it
   * would be lost until its lease ran out. Answered now, nothing is leased; the harnesses ask
   * again (and a recv that arrived just after the reconnect only asks once more).
   */
  async #dismissOnReconnect(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type !== "reconnect") continue;
      if (this.#life.signal.aborted) return;
      try {
        await this.#queue.run(() => this.#dispatcher.dismiss(), { durable: false });
        this.#log.info("reconnected to NATS: parked recvs answered empty, to be asked again");
      } catch (e) {
        this.#log.warn({ err: e }, "could not answer the parked recvs after a reconnect");
      }
    }
  }

  /** Agents off the roster: their unread mail is dropped, their parked recvs answered. */
  async #left(agents: string[]): Promise<void> {
    try {
      const dropped = await this.#queue.run(
        () => {
          const now = this.#clock.now();
          for (const a of agents) this.#dispatcher.dismiss(a);
          return agents.map((a) => this.#store.dropOpenReceipts(a, now));
        },
        { durable: false },
      );
      this.#log.info({ agents, dropped }, "agents left the roster; their unread mail is dropped");
    } catch (e) {
      this.#log.error({ err: e, agents }, "could not drop the mail of agents that left");
    }
  }

  #opInbox(req: InboxListRequest): InboxListResponse {
    const now = this.#clock.now();
    return { messages: this.#history.inbox(OPERATOR, req.limit ?? 50, req.before_id, now) };
  }

  #opHistory(req: HistoryRequest): HistoryResponse {
    return this.#history.page(req, this.#clock.now());
  }

  /**
   * Queues a receipt's change for `hive.events.delivery`. They go out just after the replies of
   * the same batch: events are for watchers, and a broadcast's thousand replies should not wait
   * behind a thousand events.
   */
  #delivery(ev: DeliveryEvent): void {
    this.#deliveries.push(ev);
    if (this.#deliveries.length > 1) return;
    setImmediate(() => {
      const events = this.#deliveries;
      this.#deliveries = [];
      try {
        for (const e of events) publishEvent(this.#nc, subjects.events.delivery, DeliveryEvent, e);
      } catch (e) {
        // The connection closed under a stop: watchers reload from history when they return.
        this.#log.warn({ err: e, dropped: events.length }, "delivery events not published");
      }
    });
  }
}

/** The calling agent: the second token of `hive.agent.<name>.<verb>`, validated. */
function caller(subject: string): string {
  const token = subjectToken(subject, 2) ?? "";
  const parsed = AgentName.safeParse(token);
  if (!parsed.success) {
    throw new HiveError(
      ErrorCode.BadRequest,
      `subject ${subject}: "${token}" is not a valid agent name (${parsed.error.issues
        .map((i) => i.message)
        .join("; ")})`,
    );
  }
  return parsed.data;
}
