import type { Db, Logger } from "@hyperhive/shared";
import type { WalSync } from "./wal-sync.js";

/** What a batch does once its transaction committed, or instead when it did not. */
export interface BatchEffects {
  /** Runs once the batch is committed (and on the disk, when it had to be), in order. */
  afterCommit(fn: () => void): void;
  /** Runs instead of the afterCommit effects when the batch failed. */
  afterRollback(fn: (e: unknown) => void): void;
}

/** The most operations one batch takes (see {@link CommitQueue.#flush}). */
const MAX_BATCH_OPS = 16;
/** The largest durable batch synced inline (see {@link CommitQueue}); bigger ones overlap. */
const INLINE_MAX_OPS = 8;

/** How much a write needs: a `durable` one is on the disk before anyone hears of it. */
export interface OpOptions {
  durable: boolean;
}

interface Op {
  fn: (fx: BatchEffects) => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

export interface CommitQueueOptions {
  db: Db;
  log: Logger;
  /** fsyncs the database's WAL; none for a database in memory (tests of logic only). */
  wal?: WalSync | undefined;
  /**
   * Runs inside each batch's transaction after its operations (the broker hands new mail to
   * parked recvs there, so a send and the lease it causes share one commit).
   */
  beforeCommit?: (fx: BatchEffects) => void;
}

/**
 * Group commit. Operations that arrive together — every request NATS delivered in one read of
 * the socket — run in ONE sqlite transaction, each in a savepoint of its own (one failing rolls
 * back only itself), with one commit. The connection runs with `synchronous = NORMAL`: a commit
 * writes the WAL without waiting for the disk; a batch with a durable operation in it then waits
 * for an fsync of the WAL ({@link WalSync}, on the thread pool, shared by every batch committed
 * while the previous one ran) while the event loop goes on with the next batch. Batches are
 * released strictly in order: an operation's promise and its batch's effects (replies,
 * announcements, leases handed to parked recvs) come only after everything committed before them
 * is on the disk, so nothing is revealed that a power cut could take back.
 *
 * A small durable batch while no fsync is running (the hive's usual case: one send at a time)
 * commits with `synchronous = FULL` instead, sqlite syncing inline: for one write that is quicker
 * than a trip through the thread pool, and there is nothing to overlap it with.
 */
export class CommitQueue {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #wal: WalSync | undefined;
  readonly #beforeCommit: ((fx: BatchEffects) => void) | undefined;
  readonly #savepoint: (fn: () => unknown) => unknown;
  #ops: Op[] = [];
  #scheduled: Promise<void> | undefined;
  /** Batches committed and not released yet (waiting for an fsync, or behind one that is). */
  #unreleased = 0;
  #synchronous: "FULL" | "NORMAL" | undefined;
  #released: Promise<void> = Promise.resolve();
  /** Batches committed, operations in them, and batches that waited for an fsync. */
  readonly #stats = { batches: 0, ops: 0, durableBatches: 0, inlineSyncs: 0 };

  constructor(o: CommitQueueOptions) {
    this.#db = o.db;
    this.#log = o.log;
    this.#wal = o.wal;
    this.#beforeCommit = o.beforeCommit;
    // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT.
    this.#savepoint = o.db.transaction((fn: () => unknown) => fn());
  }

  /** Batches, operations, batches that waited for the disk, and the fsyncs they shared. */
  get stats(): { batches: number; ops: number; durableBatches: number; fsyncs: number } {
    const { batches, ops, durableBatches, inlineSyncs } = this.#stats;
    return { batches, ops, durableBatches, fsyncs: (this.#wal?.count ?? 0) + inlineSyncs };
  }

  /** Runs `fn` in the next batch; settles with its result once that batch is released. */
  run<T>(fn: (fx: BatchEffects) => T, opts: OpOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#ops.push({ fn, durable: opts.durable, resolve: (v) => resolve(v as T), reject });
      this.kick();
    });
  }

  /** Makes sure a batch runs soon, even with no operation queued (for `beforeCommit`'s work). */
  kick(): void {
    // After the I/O callbacks of this turn of the event loop: everything NATS delivered joins.
    this.#scheduled ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.#scheduled = undefined;
        this.#flush();
        resolve();
      });
    });
  }

  /** Resolves once every batch queued or committed so far has been released. */
  async idle(): Promise<void> {
    while (this.#scheduled !== undefined || this.#unreleased > 0) {
      await this.#scheduled;
      await this.#released;
    }
  }

  #flush(): void {
    // At most MAX_BATCH_OPS now; the rest in a batch of their own after the event loop's next
    // turn, so the fsync of this one, its replies and the senders' next requests overlap with
    // the work on the rest instead of waiting for all of it.
    const ops = this.#ops.splice(0, MAX_BATCH_OPS);
    const durable = ops.some((op) => op.durable);
    if (this.#ops.length > 0) this.kick();
    const inline = durable && ops.length <= INLINE_MAX_OPS && this.#wal?.busy === false;
    this.#setSynchronous(inline ? "FULL" : "NORMAL");
    const after: (() => void)[] = [];
    const rollback: ((e: unknown) => void)[] = [];
    const fx: BatchEffects = {
      afterCommit: (fn) => after.push(fn),
      afterRollback: (fn) => rollback.push(fn),
    };
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.#db
        .transaction(() => {
          for (const op of ops) {
            try {
              outcomes.push({ ok: true, value: this.#savepoint(() => op.fn(fx)) });
            } catch (e) {
              outcomes.push({ ok: false, value: e });
            }
          }
          this.#beforeCommit?.(fx);
        })
        .immediate();
    } catch (e) {
      this.#fail(ops, rollback, e, "a batch's transaction failed; nothing of it was kept");
      return;
    }
    this.#stats.batches++;
    this.#stats.ops += ops.length;
    if (inline) {
      this.#stats.durableBatches++;
      this.#stats.inlineSyncs++;
    }
    const release = (): void => {
      ops.forEach((op, i) => {
        const o = outcomes[i]!;
        if (o.ok) op.resolve(o.value);
        else op.reject(o.value);
      });
      for (const fn of after) {
        try {
          fn();
        } catch (e) {
          this.#log.error({ err: e }, "an after-commit effect failed");
        }
      }
    };
    const wal = durable && !inline ? this.#wal : undefined;
    if (wal === undefined && this.#unreleased === 0) {
      release();
      return;
    }
    if (wal !== undefined) this.#stats.durableBatches++;
    this.#unreleased++;
    const synced = wal?.sync();
    this.#released = Promise.all([this.#released, synced])
      .then(release, (e: unknown) =>
        this.#fail(ops, rollback, e, "fsync of the WAL failed; the batch was not acknowledged"),
      )
      .finally(() => {
        this.#unreleased--;
      });
  }

  #setSynchronous(level: "FULL" | "NORMAL"): void {
    if (this.#synchronous === level) return;
    this.#db.pragma(`synchronous = ${level}`);
    this.#synchronous = level;
  }

  #fail(ops: Op[], rollback: ((e: unknown) => void)[], e: unknown, what: string): void {
    this.#log.error({ err: e, ops: ops.length }, what);
    for (const op of ops) op.reject(e);
    for (const fn of rollback) fn(e);
  }
}
