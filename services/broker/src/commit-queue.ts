import type { Db, Logger } from "@hyperhive/shared";
import type { WalSync } from "./wal-sync.js";

/** What an operation does once its batch committed, or instead when it did not. */
export interface BatchEffects {
  /**
   * Runs once the batch is committed — and on the disk, for a durable operation — in order: the
   * effects of a durable operation wait for the fsync, the others (and the batch's
   * `beforeCommit` work: leases handed to parked recvs) go at the commit.
   */
  afterCommit(fn: () => void): void;
  /** Runs instead of the afterCommit effects when the batch failed. */
  afterRollback(fn: (e: unknown) => void): void;
}

/** The effects registered by one kind of operation in a batch. */
class Effects implements BatchEffects {
  readonly after: (() => void)[] = [];
  readonly rollback: ((e: unknown) => void)[] = [];
  afterCommit(fn: () => void): void {
    this.after.push(fn);
  }
  afterRollback(fn: (e: unknown) => void): void {
    this.rollback.push(fn);
  }
}

/** The most operations one batch takes (see {@link CommitQueue.#flush}). */
const MAX_BATCH_OPS = 16;
/** The largest durable batch synced inline (see {@link CommitQueue}); bigger ones overlap. */
const INLINE_MAX_OPS = 8;

/**
 * How much a write needs: a `durable` one is answered, and its effects run, once it is on the
 * disk; the others at their commit (which a crash of the process cannot take back).
 */
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
 * writes the WAL, which a crash of this process cannot take back, without waiting for the disk.
 *
 * What must survive a power cut too — a durable operation (a send) — is answered only after an
 * fsync of the WAL ({@link WalSync}, on the thread pool, shared by every batch committed while the
 * previous one ran) while the event loop goes on with the next batch; durable operations are
 * released strictly in order, so an acknowledged send never depends on one a power cut could take
 * back. Everything else is answered at the commit: a lease, an ack, an extend. A power cut takes
 * those back only together with the unsynced sends before them, and what it takes back is a
 * redelivery, which at-least-once allows (the sender, never acknowledged, sends again). So a
 * message handed to a parked recv reaches its reader at the commit, not after the disk.
 *
 * A small durable batch with nothing to answer at its commit, while no fsync is running (the
 * hive's usual case: one send at a time) syncs inline instead: for one write that is quicker than
 * a trip through the thread pool, and there is nothing to overlap it with.
 */
export class CommitQueue {
  readonly #log: Logger;
  readonly #wal: WalSync | undefined;
  readonly #beforeCommit: ((fx: BatchEffects) => void) | undefined;
  /** Runs its argument in a `BEGIN IMMEDIATE` … `COMMIT`. */
  readonly #batch: (fn: () => void) => void;
  readonly #savepoint: (fn: () => unknown) => unknown;
  #ops: Op[] = [];
  #scheduled: Promise<void> | undefined;
  /** Batches committed and not released yet (waiting for an fsync, or behind one that is). */
  #unreleased = 0;
  #released: Promise<void> = Promise.resolve();
  /** Batches committed, operations in them, and batches that waited for an fsync. */
  readonly #stats = { batches: 0, ops: 0, durableBatches: 0 };

  constructor(o: CommitQueueOptions) {
    this.#log = o.log;
    this.#wal = o.wal;
    this.#beforeCommit = o.beforeCommit;
    // The WAL is synced by WalSync when a batch needs it, never by sqlite at each commit.
    if (o.wal) o.db.pragma("synchronous = NORMAL");
    // Made once: better-sqlite3 builds four wrapped functions for each `transaction()`.
    this.#batch = o.db.transaction((fn: () => void) => fn()).immediate;
    // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT.
    this.#savepoint = o.db.transaction((fn: () => unknown) => fn());
  }

  /** Batches, operations, batches that waited for the disk, and the fsyncs they shared. */
  get stats(): { batches: number; ops: number; durableBatches: number; fsyncs: number } {
    const { batches, ops, durableBatches } = this.#stats;
    return { batches, ops, durableBatches, fsyncs: this.#wal?.count ?? 0 };
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
    if (this.#ops.length > 0) this.kick();
    const onDisk = new Effects();
    const atCommit = new Effects();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.#batch(() => {
        for (const op of ops) {
          const fx = op.durable ? onDisk : atCommit;
          try {
            outcomes.push({ ok: true, value: this.#savepoint(() => op.fn(fx)) });
          } catch (e) {
            outcomes.push({ ok: false, value: e });
          }
        }
        this.#beforeCommit?.(atCommit);
      });
    } catch (e) {
      const rollback = [...onDisk.rollback, ...atCommit.rollback];
      this.#fail(ops, rollback, e, "a batch's transaction failed; nothing of it was kept");
      return;
    }
    this.#stats.batches++;
    this.#stats.ops += ops.length;
    const settle = (durable: boolean, effects: (() => void)[]): void => {
      ops.forEach((op, i) => {
        if (op.durable !== durable) return;
        const o = outcomes[i]!;
        if (o.ok) op.resolve(o.value);
        else op.reject(o.value);
      });
      for (const fn of effects) {
        try {
          fn();
        } catch (e) {
          this.#log.error({ err: e }, "an after-commit effect failed");
        }
      }
    };
    const durable = ops.filter((op) => op.durable);
    const answeredNow = durable.length < ops.length || atCommit.after.length > 0;
    settle(false, atCommit.after);
    if (durable.length === 0) return;
    const release = () => settle(true, onDisk.after);
    const wal = this.#wal;
    const failed = (e: unknown) =>
      this.#fail(durable, onDisk.rollback, e, "fsync of the WAL failed; nothing acknowledged");
    if (wal !== undefined) this.#stats.durableBatches++;
    if (this.#unreleased === 0) {
      if (wal === undefined) {
        release();
        return;
      }
      // Inline only when that delays nothing: what this batch answers at its commit goes out
      // once this turn of the event loop ends, so it must not wait behind an fsync.
      if (!answeredNow && !wal.busy && durable.length <= INLINE_MAX_OPS) {
        try {
          wal.syncNow();
        } catch (e) {
          failed(e);
          return;
        }
        release();
        return;
      }
    }
    this.#unreleased++;
    // What this batch answered at its commit is written to the sockets in this turn's microtasks;
    // the fsync starts after them, so its kernel work does not compete with those replies on
    // their way (on two cores a parked recv's reply came ~10% sooner).
    const synced = answeredNow
      ? new Promise<void>((resolve, reject) => {
          setImmediate(() => wal?.sync().then(resolve, reject) ?? resolve());
        })
      : wal?.sync();
    this.#released = Promise.all([this.#released, synced])
      .then(release, failed)
      .finally(() => {
        this.#unreleased--;
      });
  }

  #fail(ops: Op[], rollback: ((e: unknown) => void)[], e: unknown, what: string): void {
    this.#log.error({ err: e, ops: ops.length }, what);
    for (const op of ops) op.reject(e);
    for (const fn of rollback) fn(e);
  }
}
