import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Makes what sqlite committed durable without blocking the event loop: an fsync of the database's
 * write-ahead log on libuv's thread pool. The connection runs with `synchronous = NORMAL`, so a
 * commit only writes the WAL (it survives a crash of this process, not a power cut); after
 * {@link sync} resolves, every transaction committed before the call is on the disk too. A
 * checkpoint (which sqlite syncs itself in NORMAL mode) is the only thing that may reuse WAL
 * frames, and only ones already in the database file. Calls that arrive while an fsync runs share
 * the next one: group commit, with the fsync off the thread that parses the next batch.
 */
export class WalSync {
  readonly #walPath: string;
  #file: Promise<FileHandle> | undefined;
  #inflight: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** fsyncs issued (diagnostics, and the tests of group commit). */
  count = 0;

  /** Whether an fsync is running or queued. */
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

  async close(): Promise<void> {
    await this.#inflight?.catch(() => {});
    await this.#next?.catch(() => {});
    const file = this.#file;
    this.#file = undefined;
    await (await file?.catch(() => undefined))?.close();
  }

  async #fsync(): Promise<void> {
    this.count++;
    if (this.#file === undefined) {
      const opening = this.#openLog();
      this.#file = opening;
      // A failed open is tried again by the next fsync.
      opening.catch(() => {
        if (this.#file === opening) this.#file = undefined;
      });
    }
    // fdatasync, as sqlite does: the data and the size, not the timestamps.
    await (await this.#file).datasync();
  }

  /** The WAL, once; the directory is synced once too, so the file's own entry is durable. */
  async #openLog(): Promise<FileHandle> {
    const file = await open(this.#walPath, "r");
    const dir = await open(dirname(this.#walPath), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return file;
  }
}
