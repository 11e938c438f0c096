import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Makes what sqlite committed durable: an fsync of the database's write-ahead log. The connection
 * runs with `synchronous = NORMAL`, so a commit only writes the WAL (it survives a crash of this
 * process, not a power cut); after {@link sync} resolves, or {@link syncNow} returns, every
 * transaction committed before the call is on the disk too. A checkpoint (which sqlite syncs
 * itself in NORMAL mode) is the only thing that may reuse WAL frames, and only ones already in the
 * database file. {@link sync} runs on libuv's thread pool, and calls that arrive while one runs
 * share the next: group commit, with the fsync off the thread that parses the next batch.
 */
export class WalSync {
  readonly #walPath: string;
  #fd: number | undefined;
  #inflight: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** fsyncs issued (diagnostics, and the tests of group commit). */
  count = 0;

  /** Whether an fsync is running or queued on the thread pool. */
  get busy(): boolean {
    return this.#inflight !== undefined;
  }

  constructor(dbPath: string) {
    this.#walPath = `${dbPath}-wal`;
  }

  /** Resolves once everything committed before this call is on the disk. */
  sync(): Promise<void> {
    if (this.#inflight === undefined) {
      this.#inflight = this.#fsync().finally(() => {
        this.#inflight = undefined;
      });
      return this.#inflight;
    }
    // The running fsync may have started before this commit: one more, right after it.
    this.#next ??= this.#inflight.then(() => {
      this.#next = undefined;
      return this.sync();
    });
    return this.#next;
  }

  /**
   * The same on the calling thread: for one small commit with nothing else to do meanwhile, a
   * trip through the thread pool costs more than it saves.
   */
  syncNow(): void {
    this.count++;
    fdatasyncSync(this.#log());
  }

  async close(): Promise<void> {
    await this.#inflight?.catch(() => {});
    await this.#next?.catch(() => {});
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #fsync(): Promise<void> {
    this.count++;
    return new Promise<void>((resolve, reject) => {
      // fdatasync, as sqlite does: the data and the size, not the timestamps.
      fdatasync(this.#log(), (e) => (e ? reject(e) : resolve()));
    });
  }

  /** The WAL, opened once; the directory is synced once too, so the file's own entry is durable. */
  #log(): number {
    if (this.#fd !== undefined) return this.#fd;
    const fd = openSync(this.#walPath, "r");
    try {
      const dir = openSync(dirname(this.#walPath), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.#fd = fd;
    return fd;
  }
}
