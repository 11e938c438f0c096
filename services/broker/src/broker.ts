import {
  type AckRequest,
  type AckResponse,
  AgentName,
  bodyBytes,
  type Clock,
  type Db,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RECV_WAIT_SECONDS,
  ErrorCode,
  type ExtendRequest,
  type ExtendResponse,
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
  type RecvRequest,
  type RecvResponse,
  type ReleaseResponse,
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
import { RosterFollower } from "./roster.js";
import { MessageStore } from "./store.js";

export interface BrokerOptions {
  nc: NatsConnection;
  /** An open database with the broker's {@link migrations} applied. */
  db: Db;
  log: Logger;
  clock?: Clock;
}

/**
 * The message `body_too_large` carries: what to do instead, in terms that fit the sender. An
 * agent has a state dir the recipient can be pointed to; the operator does not.
 */
export function bodyTooLargeMessage(bytes: number, from: string, to: string): string {
  const over = `message body is ${bytes} bytes; the inline limit is ${MAX_BODY_BYTES} bytes.`;
  if (from === OPERATOR) {
    return (
      `${over} Send a shorter message, or put the content in a file ${to} can read ` +
      `(its state dir is the same path for you and for it) and send the file's path.`
    );
  }
  return `${over} Write the content to a file in your state dir and send the file's path instead.`;
}

/**
 * Durable per-agent inboxes over NATS. Answers the agents' `send`/`recv`/`ack`/`extend`/`release`
 * (caller = the subject's second token), the operator's and system's `send`, and the operator's
 * inbox list. A send is replied to only after its row is committed; recv leases a message
 * (at-least-once delivery) and long-polls when nothing is deliverable. Mail goes only to agents
 * on c0re's roster.
 */
export class Broker {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #store: MessageStore;
  readonly #roster: RosterFollower;
  readonly #life = new Lifecycle("broker");
  /** Per recipient: wake-up callbacks of recvs waiting for mail or for a lease to expire. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /**
   * Per agent: how many times it called `release`. A recv parked before the latest release
   * belongs to a dead incarnation (its reply subject is gone): it must not lease new mail.
   */
  readonly #releases = new Map<string, number>();
  #services: Service[] = [];

  constructor(opts: BrokerOptions) {
    this.#nc = opts.nc;
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    this.#store = new MessageStore(opts.db);
    this.#roster = new RosterFollower({ ...opts, clock: this.#clock });
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /** Subscribes to every broker subject; resolves once the server has the subscriptions. */
  start(): Promise<void> {
    return this.#life.start(async () => {
      const nc = this.#nc;
      const w = subjects.agentWildcard;
      const opts = { log: this.#log };
      await this.#roster.start();
      this.#services = [
        serve(nc, w.send, rpcs.send, (req, msg) => this.#send(caller(msg.subject), req), opts),
        serve(nc, subjects.op.send, rpcs.send, (req) => this.#send(OPERATOR, req), opts),
        serve(nc, subjects.sys.send, rpcs.send, (req) => this.#send(SYSTEM, req), opts),
        serve(nc, w.recv, rpcs.recv, (req, msg) => this.#recv(caller(msg.subject), req), opts),
        serve(nc, w.ack, rpcs.ack, (req, msg) => this.#ack(caller(msg.subject), req), opts),
        serve(
          nc,
          w.extend,
          rpcs.extend,
          (req, msg) => this.#extend(caller(msg.subject), req),
          opts,
        ),
        serve(nc, w.release, rpcs.release, (_req, msg) => this.#release(caller(msg.subject)), opts),
        serve(nc, subjects.op.inbox, rpcs.opInbox, (req) => this.#opInbox(req), opts),
      ];
      await nc.flush();
      this.#log.info({ subjects: this.#services.map((s) => s.subject) }, "broker serving");
    });
  }

  /**
   * Stops taking requests: pending long-polls are answered (empty) at once, then every
   * subscription is drained and in-flight handlers finish. Safe to call twice.
   */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      for (const agent of [...this.#waiters.keys()]) this.#wake(agent);
      await Promise.allSettled(this.#services.map((s) => s.stop()));
      this.#services = [];
      await this.#roster.stop();
      this.#log.info("broker stopped");
    });
  }

  /** How many recvs are long-polling for `agent` right now (diagnostics and tests). */
  waiting(agent: string): number {
    return this.#waiters.get(agent)?.size ?? 0;
  }

  /** The roster the broker goes by (undefined until c0re has said one). */
  get roster(): ReadonlySet<string> | undefined {
    return this.#roster.agents;
  }

  /** Refuses mail nobody will read: to an agent not on the roster, or from the operator to itself. */
  #checkRecipient(from: string, to: string): void {
    if (to === OPERATOR) {
      if (from === OPERATOR) {
        throw new HiveError(ErrorCode.BadRequest, "the operator cannot send mail to the operator");
      }
      return;
    }
    // c0re's own notices go to agents it has just registered, maybe before their roster event.
    if (from === SYSTEM || to === from) return;
    const roster = this.#roster.agents;
    if (roster === undefined) {
      throw new HiveError(
        ErrorCode.Unavailable,
        "the broker does not know the hive's agents yet (c0re has not told it); try again shortly",
      );
    }
    if (!roster.has(to)) {
      const known = [...roster].sort().join(", ") || "none";
      throw new HiveError(ErrorCode.NotFound, `no agent named ${to}; the agents are: ${known}`);
    }
  }

  #send(from: string, req: SendRequest): SendResponse {
    this.#checkRecipient(from, req.to);
    const bytes = bodyBytes(req.body);
    if (bytes > MAX_BODY_BYTES) {
      throw new HiveError(ErrorCode.BodyTooLarge, bodyTooLargeMessage(bytes, from, req.to));
    }
    const r = this.#store.insert({
      from,
      to: req.to,
      body: req.body,
      clientId: req.client_id,
      inReplyTo: req.in_reply_to,
      now: this.#clock.now(),
    });
    if (r.duplicate) {
      this.#log.debug({ from, client_id: req.client_id, id: r.id }, "duplicate send");
    } else {
      publishEvent(this.#nc, subjects.inbox(req.to), InboxAnnouncement, {
        id: r.id,
        from,
        to: req.to,
        preview: preview(req.body),
        sent_at: r.sent_at,
      });
      this.#wake(req.to);
    }
    return r;
  }

  async #recv(agent: string, req: RecvRequest): Promise<RecvResponse> {
    const leaseMs = (req.lease_seconds ?? DEFAULT_LEASE_SECONDS) * 1000;
    const waitMs =
      Math.min(req.wait_seconds ?? DEFAULT_RECV_WAIT_SECONDS, MAX_RECV_WAIT_SECONDS) * 1000;
    const deadline = this.#clock.now() + waitMs;
    const incarnation = this.#releases.get(agent) ?? 0;
    for (;;) {
      const now = this.#clock.now();
      if (!this.#life.running || (this.#releases.get(agent) ?? 0) !== incarnation) {
        return { message: null, pending: this.#store.pending(agent, now) };
      }
      const got = this.#store.leaseNext(agent, now, Math.ceil(now + leaseMs));
      if (got) {
        // Other waiters for this agent re-arm their timers: this lease may end before theirs.
        this.#wake(agent);
        return got;
      }
      if (now >= deadline) return { message: null, pending: 0 };
      const expiry = this.#store.earliestLeaseExpiry(agent, now);
      await this.#waitFor(agent, expiry === null ? deadline : Math.min(deadline, expiry));
    }
  }

  #ack(agent: string, req: AckRequest): AckResponse {
    const r = this.#store.ack(agent, req.id, this.#clock.now());
    if (r === "not_found") {
      throw new HiveError(ErrorCode.NotFound, `no message ${req.id} addressed to ${agent}`);
    }
    return { id: req.id, first_ack: r === "first" };
  }

  #extend(agent: string, req: ExtendRequest): ExtendResponse {
    const now = this.#clock.now();
    const leaseUntil = Math.ceil(now + req.lease_seconds * 1000);
    const extended = this.#store.extend(agent, req.ids, now, leaseUntil);
    if (extended.length > 0) this.#wake(agent);
    return { extended };
  }

  #release(agent: string): ReleaseResponse {
    const released = this.#store.releaseAll(agent, this.#clock.now());
    if (released.length > 0) {
      this.#log.info({ agent, released }, "released the leases of a previous incarnation");
    }
    // Ends the previous incarnation's parked recvs (they answer empty, to nobody) so that the
    // next mail goes to the caller's recv instead of leasing out to a dead reply subject.
    this.#releases.set(agent, (this.#releases.get(agent) ?? 0) + 1);
    this.#wake(agent);
    return { released };
  }

  #opInbox(req: InboxListRequest): InboxListResponse {
    return { messages: this.#store.list(OPERATOR, req.limit ?? 50, req.before_id) };
  }

  /** Resolves when {@link #wake} is called for `agent` or at unix ms `until`, whichever first. */
  #waitFor(agent: string, until: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(agent);
      if (!set) {
        set = new Set();
        this.#waiters.set(agent, set);
      }
      const waiters = set;
      const done = (): void => {
        cancel();
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(agent) === waiters) this.#waiters.delete(agent);
        resolve();
      };
      // +1 ms: timers may fire a hair early, and a lease counts as expired only at lease_until.
      const cancel = this.#clock.schedule(Math.max(0, until - this.#clock.now()) + 1, done);
      waiters.add(done);
    });
  }

  #wake(agent: string): void {
    const set = this.#waiters.get(agent);
    if (set) for (const done of [...set]) done();
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
