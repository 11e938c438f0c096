import type { Cancel, Clock, Logger } from "@hyperhive/shared";
import type { CommitQueue } from "./commit-queue.js";
import type { HistoryStore } from "./history.js";

export interface RetentionOptions {
  /** Delivered mail (every receipt acked) older than this is deleted; 0 keeps everything. */
  maxAgeMs: number;
  /** How often the sweep runs (it also runs once at start). */
  everyMs: number;
  /** Rows deleted per batch: the sweep takes turns with live traffic in the group commit. */
  chunk: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  maxAgeMs: 30 * 24 * 3600 * 1000,
  everyMs: 3600 * 1000,
  chunk: 500,
};

/**
 * The retention sweep: deletes messages whose delivery ended (every receipt acked) more than
 * `maxAgeMs` ago, with their receipts, in chunks that go through the group commit between live
 * requests. Mail still queued or leased to anyone — and the operator's inbox, which has no ack —
 * is never deleted.
 */
export class Retention {
  readonly #o: RetentionOptions & {
    history: HistoryStore;
    queue: CommitQueue;
    clock: Clock;
    log: Logger;
  };
  #cancel: Cancel | undefined;
  #stopped = false;
  #running: Promise<number> | undefined;

  constructor(
    o: Partial<RetentionOptions> & {
      history: HistoryStore;
      queue: CommitQueue;
      clock: Clock;
      log: Logger;
    },
  ) {
    this.#o = { ...DEFAULT_RETENTION, ...o };
  }

  /** Sweeps now, then every `everyMs`. */
  start(): void {
    if (this.#o.maxAgeMs <= 0) return;
    const tick = (): void => {
      if (this.#stopped) return;
      void this.sweep().finally(() => {
        if (!this.#stopped) this.#cancel = this.#o.clock.schedule(this.#o.everyMs, tick);
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  /** One sweep, chunk by chunk; resolves with how many messages it deleted. */
  sweep(): Promise<number> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<number> {
    const { history, queue, clock, log, maxAgeMs, chunk } = this.#o;
    if (maxAgeMs <= 0) return 0;
    const cutoff = clock.now() - maxAgeMs;
    let total = 0;
    try {
      for (;;) {
        const n = await queue.run(() => history.sweep(cutoff, chunk), { durable: false });
        total += n;
        if (n < chunk || this.#stopped) break;
      }
    } catch (e) {
      log.error({ err: e }, "retention sweep failed; the next one will try again");
    }
    if (total > 0) log.info({ deleted: total, cutoff }, "retention sweep");
    return total;
  }
}
