import {
  type Cancel,
  type Clock,
  every,
  HiveError,
  type Logger,
  retry,
  retryPolicy,
  toWireError,
} from "@hyperhive/shared";
import type { Hive } from "./bridge.js";

/**
 * Retrying an ack whose reply was lost (NATS failing over or restarting just as a turn ends):
 * acks are idempotent, and a message left unacked would be answered a second time once its lease
 * runs out. About 10 s in all, well within the lease.
 */
export const ACK_RETRY = retryPolicy({ initialMs: 250, factor: 2, maxMs: 5000, maxAttempts: 6 });

/** What a lease set needs: the broker, the lease length, the clock it extends on. */
export interface LeaseSetOptions {
  hive: Pick<Hive, "ack" | "extend">;
  /** Each extension asks for this much more time; extensions come every third of it. */
  leaseSeconds: number;
  clock: Clock;
  log: Logger;
  /** Aborted when the harness stops: pending acks and extensions give up at once. */
  signal: AbortSignal;
}

/**
 * The messages leased for one held message's turns (the one that woke them, plus whatever a
 * mid-turn recv leased): kept alive until the turn ends, then acked. What is never acked comes
 * again once its lease runs out (at-least-once).
 */
export class LeaseSet {
  readonly #ids = new Set<number>();
  #stopExtending: Cancel | undefined;

  constructor(private readonly o: LeaseSetOptions) {}

  /** A copy of the ids, in the order they were leased. */
  get ids(): number[] {
    return [...this.#ids];
  }

  add(id: number): void {
    this.#ids.add(id);
  }

  /** Extends every lease each third of the lease time, on the clock, until stopped or acked. */
  startExtending(): void {
    this.#stopExtending ??= every(this.o.clock, (this.o.leaseSeconds * 1000) / 3, () => {
      this.#extend();
    });
  }

  stopExtending(): void {
    this.#stopExtending?.();
    this.#stopExtending = undefined;
  }

  /**
   * Acks every message, retrying a lost reply ({@link ACK_RETRY}); goes on past failures (an
   * unacked one is merely delivered again).
   */
  async ackAll(): Promise<void> {
    this.stopExtending();
    const ids = this.ids;
    this.o.log.debug({ ids }, "acking");
    for (const id of ids) {
      try {
        await retry(() => this.o.hive.ack(id, this.o.signal), {
          policy: ACK_RETRY,
          clock: this.o.clock,
          signal: this.o.signal,
          retryable: (e) => HiveError.is(e) && e.retryable,
          onRetry: (e, attempt) =>
            this.o.log.warn({ id, attempt, err: toWireError(e) }, "ack failed; retrying"),
        });
      } catch (e) {
        this.o.log.error({ id, err: toWireError(e) }, "ack failed; the message may come again");
      }
    }
  }

  #extend(): void {
    const ids = this.ids;
    this.o.hive.extend(ids, this.o.leaseSeconds, this.o.signal).then(
      (extended) => {
        if (extended.length < ids.length) {
          this.o.log.warn({ ids, extended }, "some leases could not be extended");
        }
      },
      (e: unknown) => this.o.log.warn({ err: toWireError(e) }, "lease extend failed"),
    );
  }
}
