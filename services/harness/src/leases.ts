import { type Cancel, type Clock, every, type Logger, toWireError } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";

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

  /** Acks every message; goes on past failures (an unacked one is merely delivered again). */
  async ackAll(): Promise<void> {
    this.stopExtending();
    const ids = this.ids;
    this.o.log.debug({ ids }, "acking");
    for (const id of ids) {
      try {
        await this.o.hive.ack(id, this.o.signal);
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
