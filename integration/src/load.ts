import { setMaxListeners } from "node:events";
import { setTimeout as pause } from "node:timers/promises";
import { HiveError, type NatsConnection, request, rpcs, subjects } from "@hyperhive/shared";

/** A stream of sends through the broker, as one agent. */
export interface SendLoadSpec {
  readonly nc: NatsConnection;
  /** The sending agent: requests go to `hive.agent.<from>.send`. */
  readonly from: string;
  readonly to: string;
  /** Sends in all, each with its own client id. */
  readonly total: number;
  /** Sends awaiting their reply at any time. */
  readonly inFlight: number;
  /** How long one try waits for its reply, ms. */
  readonly tryTimeoutMs: number;
  /** Everything must be acknowledged within this many ms, or `done` rejects. */
  readonly deadlineMs: number;
}

/** One acknowledged send. */
export interface Ack {
  readonly clientId: string;
  /** The broker's message id. */
  readonly id: number;
  /** The broker had stored it already: an earlier try was committed but its reply was lost. */
  readonly duplicate: boolean;
  readonly tries: number;
  /** When the reply came, `performance.now()` ms. */
  readonly at: number;
}

/** Retrying a failed try: 20 ms, doubling, at most 500 ms. */
const retryPauseMs = (failures: number): number => Math.min(20 * 2 ** (failures - 1), 500);

/** The body of the send with client id `clientId`, so the stored rows can be checked. */
export const loadBody = (clientId: string): string => `load ${clientId}`;

/**
 * Sends `total` messages with `inFlight` of them outstanding at a time. Each carries a client id
 * and is retried with the same id until the broker acknowledges it, so a send whose reply was lost
 * (the connection dropped) is stored once and acknowledged as a duplicate. An error reply that is
 * not retryable ends the run (`done` rejects).
 */
export class SendLoad {
  /** By client id. */
  readonly acks = new Map<string, Ack>();
  /** Tries that got no reply or an error, in all. */
  failedTries = 0;
  /** Settles when every send is acknowledged; rejects at the deadline, or on a refusal. */
  readonly done: Promise<void>;
  private next = 0;
  private readonly abort = new AbortController();

  constructor(private readonly spec: SendLoadSpec) {
    const signal = AbortSignal.any([AbortSignal.timeout(spec.deadlineMs), this.abort.signal]);
    // Every worker's retry pause listens on it.
    setMaxListeners(spec.inFlight + 1, signal);
    const workers = Array.from({ length: spec.inFlight }, () => this.worker(signal));
    this.done = Promise.all(workers).then(
      () => {},
      (e: unknown) => {
        this.abort.abort(e);
        throw e;
      },
    );
    // Observed by whoever awaits `done`; an unobserved rejection must not end the process first.
    this.done.catch(() => {});
  }

  /** Stops issuing and retrying sends (a test that failed half-way). Safe to call twice. */
  stop(): void {
    this.abort.abort(new Error("send load stopped"));
  }

  private async worker(deadline: AbortSignal): Promise<void> {
    while (this.next < this.spec.total) {
      const clientId = `load-${this.next++}`;
      this.acks.set(clientId, await this.sendUntilAcked(clientId, deadline));
    }
  }

  private async sendUntilAcked(clientId: string, deadline: AbortSignal): Promise<Ack> {
    const { nc, from, to, tryTimeoutMs } = this.spec;
    for (let tries = 1; ; tries++) {
      deadline.throwIfAborted();
      try {
        const r = await request(
          nc,
          subjects.agent.send(from),
          rpcs.send,
          { to, body: loadBody(clientId), client_id: clientId },
          { timeoutMs: tryTimeoutMs },
        );
        return { clientId, id: r.id, duplicate: r.duplicate, tries, at: performance.now() };
      } catch (e) {
        // A refusal (bad request, unknown recipient) stays one: only a lost reply is retried.
        if (deadline.aborted || (HiveError.is(e) && !e.retryable)) throw e;
        this.failedTries++;
        await pause(retryPauseMs(tries), undefined, { signal: deadline });
      }
    }
  }
}
