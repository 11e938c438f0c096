import type { Db, Logger } from "@hyperhive/shared";

/** What a batch does once its transaction committed, or instead when it did not. */
export interface BatchEffects {
  /** Runs after the commit, in order (replies, announcements, events). */
  afterCommit(fn: () => void): void;
  /** Runs instead of the afterCommit effects when the batch's transaction failed. */
  afterRollback(fn: (e: unknown) => void): void;
}

/** How much a write needs: `durable` ones are fsynced before anyone hears of them. */
export interface OpOptions {
  durable: boolean;
}

interface Op {
  fn: (fx: BatchEffects) => unknown;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

export interface CommitQueueOptions {
  db: Db;
  log: Logger;
  /**
   * Runs inside each batch's transaction after its operations (the broker hands new mail to
   * parked recvs there, so a send and the lease it causes share one commit).
   */
  beforeCommit?: (fx: BatchEffects) => void;
}

/**
 * Group commit. Operations that arrive together — every request NATS delivered in one read, and
 * whatever queued up while the previous commit's fsync blocked the thread — run in ONE sqlite
 * transaction, each in a savepoint of its own (one failing rolls back only itself), with one
 * commit: fsynced (`synchronous = FULL`) when any of them is durable, else not (`NORMAL`: it
 * survives a crash of this process, and rides the next fsync to the disk). Each operation's
 * promise settles only after that commit, so a reply never gets ahead of what it reports.
 */
export class CommitQueue {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #beforeCommit: ((fx: BatchEffects) => void) | undefined;
  readonly #savepoint: (fn: () => unknown) => unknown;
  #ops: Op[] = [];
  #durable = false;
  #scheduled = false;
  #synchronous: "FULL" | "NORMAL" | undefined;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};
  /** Batches committed, and operations in them (diagnostics, benchmarks). */
  readonly stats = { batches: 0, ops: 0, fsynced: 0 };

  constructor(o: CommitQueueOptions) {
    this.#db = o.db;
    this.#log = o.log;
    this.#beforeCommit = o.beforeCommit;
    // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT.
    this.#savepoint = o.db.transaction((fn: () => unknown) => fn());
  }

  /** Runs `fn` in the next batch; settles with its result once that batch has committed. */
  run<T>(fn: (fx: BatchEffects) => T, opts: OpOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#ops.push({ fn, resolve: (v) => resolve(v as T), reject });
      if (opts.durable) this.#durable = true;
      this.kick();
    });
  }

  /** Makes sure a batch runs soon, even with no operation queued (for `beforeCommit`'s work). */
  kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#idle = new Promise((resolve) => {
      this.#markIdle = resolve;
    });
    // After the I/O callbacks of this turn of the event loop: everything NATS delivered joins.
    setImmediate(() => this.#flush());
  }

  /** Resolves once nothing is queued (the batch scheduled now, if any, has run). */
  idle(): Promise<void> {
    return this.#idle;
  }

  #flush(): void {
    const ops = this.#ops;
    const durable = this.#durable;
    this.#ops = [];
    this.#durable = false;
    this.#scheduled = false;
    const markIdle = this.#markIdle;
    const after: (() => void)[] = [];
    const rollback: ((e: unknown) => void)[] = [];
    const fx: BatchEffects = {
      afterCommit: (fn) => after.push(fn),
      afterRollback: (fn) => rollback.push(fn),
    };
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.#setSynchronous(durable ? "FULL" : "NORMAL");
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
      this.#log.error(
        { err: e, ops: ops.length },
        "a batch's transaction failed; nothing of it was kept",
      );
      for (const op of ops) op.reject(e);
      for (const fn of rollback) fn(e);
      markIdle();
      return;
    }
    this.stats.batches++;
    this.stats.ops += ops.length;
    if (durable) this.stats.fsynced++;
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
    markIdle();
  }

  #setSynchronous(level: "FULL" | "NORMAL"): void {
    if (this.#synchronous === level) return;
    this.#db.pragma(`synchronous = ${level}`);
    this.#synchronous = level;
  }
}
