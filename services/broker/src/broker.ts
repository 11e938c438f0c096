import {
  AckRequest,
  AckResponse,
  AgentName,
  bodyBytes,
  type Db,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RECV_WAIT_SECONDS,
  ErrorCode,
  ExtendRequest,
  ExtendResponse,
  HiveError,
  InboxAnnouncement,
  InboxListRequest,
  InboxListResponse,
  type Logger,
  MAX_BODY_BYTES,
  MAX_RECV_WAIT_SECONDS,
  OPERATOR,
  preview,
  publishEvent,
  RecvRequest,
  RecvResponse,
  ReleaseRequest,
  ReleaseResponse,
  type RpcSpec,
  SendRequest,
  SendResponse,
  type Service,
  SYSTEM,
  serve,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { MessageStore } from "./store.js";

/** Source of "now" in unix ms; tests may pass their own. */
export interface Clock {
  now(): number;
}

export interface BrokerOptions {
  nc: NatsConnection;
  /** An open database; the broker applies nothing to it (see {@link migrations}). */
  db: Db;
  log: Logger;
  clock?: Clock;
}

/** Where a broker is in its life. */
export const BrokerState = {
  Idle: "idle",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type BrokerState = (typeof BrokerState)[keyof typeof BrokerState];

// The broker is the trust boundary, so it refuses unknown fields instead of silently dropping
// them: a typo such as `wait_second` or a forged `from` is an error the caller gets to see.
const strict = <Req extends z.ZodObject, Res extends z.ZodType>(
  request: Req,
  response: Res,
): RpcSpec<z.ZodObject<Req["shape"], z.core.$strict>, Res> => ({
  request: z.strictObject(request.shape),
  response,
});

const specs = {
  send: strict(SendRequest, SendResponse),
  recv: strict(RecvRequest, RecvResponse),
  ack: strict(AckRequest, AckResponse),
  extend: strict(ExtendRequest, ExtendResponse),
  release: strict(ReleaseRequest, ReleaseResponse),
  opInbox: strict(InboxListRequest, InboxListResponse),
};

/** The message `body_too_large` carries; it tells an agent what to do instead. */
export function bodyTooLargeMessage(bytes: number): string {
  return (
    `message body is ${bytes} bytes; the inline limit is ${MAX_BODY_BYTES} bytes. ` +
    "Write the content to a file in your state dir and send the file's path instead."
  );
}

/**
 * Durable per-agent inboxes over NATS. Answers the agents' `send`/`recv`/`ack`/`extend`
 * (caller = the subject's second token), the operator's and system's `send`, and the operator's
 * inbox list. A send is replied to only after its row is committed; recv leases a message
 * (at-least-once delivery) and long-polls when nothing is deliverable.
 */
export class Broker {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #store: MessageStore;
  /** Per recipient: wake-up callbacks of recvs waiting for mail or for a lease to expire. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /**
   * Per agent: how many times it called `release`. A recv parked before the latest release
   * belongs to a dead incarnation (its reply subject is gone): it must not lease new mail.
   */
  readonly #releases = new Map<string, number>();
  #services: Service[] = [];
  #state: BrokerState = BrokerState.Idle;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(opts: BrokerOptions) {
    this.#nc = opts.nc;
    this.#log = opts.log;
    this.#clock = opts.clock ?? Date;
    this.#store = new MessageStore(opts.db);
  }

  get state(): BrokerState {
    return this.#state;
  }

  /** Subscribes to every broker subject; resolves once the server has the subscriptions. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      const log = this.#log;
      const w = subjects.agentWildcard;
      this.#services = [
        serve(this.#nc, w.send, specs.send, (req, msg) => this.#send(caller(msg.subject), req), {
          log,
        }),
        serve(this.#nc, subjects.op.send, specs.send, (req) => this.#send(OPERATOR, req), { log }),
        serve(this.#nc, subjects.sys.send, specs.send, (req) => this.#send(SYSTEM, req), { log }),
        serve(this.#nc, w.recv, specs.recv, (req, msg) => this.#recv(caller(msg.subject), req), {
          log,
        }),
        serve(this.#nc, w.ack, specs.ack, (req, msg) => this.#ack(caller(msg.subject), req), {
          log,
        }),
        serve(
          this.#nc,
          w.extend,
          specs.extend,
          (req, msg) => this.#extend(caller(msg.subject), req),
          { log },
        ),
        serve(
          this.#nc,
          w.release,
          specs.release,
          (_req, msg) => this.#release(caller(msg.subject)),
          { log },
        ),
        serve(this.#nc, subjects.op.inbox, specs.opInbox, (req) => this.#opInbox(req), { log }),
      ];
      this.#state = BrokerState.Running;
      await this.#nc.flush();
      log.info({ subjects: this.#services.map((s) => s.subject) }, "broker serving");
    })();
    return this.#starting;
  }

  /**
   * Stops taking requests: pending long-polls are answered (empty) at once, then every
   * subscription is drained and in-flight handlers finish. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#starting;
      this.#state = BrokerState.Stopping;
      for (const agent of [...this.#waiters.keys()]) this.#wake(agent);
      await Promise.allSettled(this.#services.map((s) => s.stop()));
      this.#services = [];
      this.#state = BrokerState.Stopped;
      this.#log.info("broker stopped");
    })();
    return this.#stopping;
  }

  /** How many recvs are long-polling for `agent` right now (diagnostics and tests). */
  waiting(agent: string): number {
    return this.#waiters.get(agent)?.size ?? 0;
  }

  #send(from: string, req: SendRequest): SendResponse {
    const bytes = bodyBytes(req.body);
    if (bytes > MAX_BODY_BYTES) {
      throw new HiveError(ErrorCode.BodyTooLarge, bodyTooLargeMessage(bytes));
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
      if (this.#state !== BrokerState.Running || (this.#releases.get(agent) ?? 0) !== incarnation) {
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
    const extended = this.#store.extend(
      agent,
      req.ids,
      now,
      Math.ceil(now + req.lease_seconds * 1000),
    );
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
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(agent) === waiters) this.#waiters.delete(agent);
        resolve();
      };
      // +1 ms: timers may fire a hair early, and a lease counts as expired only at lease_until.
      const timer = setTimeout(done, Math.max(0, until - this.#clock.now()) + 1);
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
