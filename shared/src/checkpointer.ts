import { Worker } from "node:worker_threads";
import * as z from "zod";
import type { Logger } from "./log.js";
import type { Db } from "./sqlite.js";

/** How long after a write the checkpoint runs: writes meanwhile share it. */
const DEFAULT_EVERY_MS = 1000;

const WorkerMessage = z.union([
  z.strictObject({ closed: z.literal(true) }),
  z.strictObject({ error: z.string() }),
]);

/**
 * Moves sqlite's WAL checkpoints off the event loop. Left to itself sqlite checkpoints inside
 * the commit that crosses 1000 pages of log: two fsyncs on the thread that serves requests,
 * tens of ms on a slow disk (and 120 ms seen here), in the tail of every latency. With this the
 * service's connection never checkpoints (`wal_autocheckpoint = 0`); a worker thread with its
 * own connection does, passively, within `everyMs` of a change of the log (see
 * `checkpoint-worker.ts`). If the worker fails, automatic checkpoints come back on, so the log
 * never grows without bound.
 */
export class BackgroundCheckpointer {
  readonly #db: Db;
  readonly #log: Logger;
  readonly #worker: Worker;
  readonly #closed: Promise<void>;
  #failed = false;

  private constructor(db: Db, log: Logger, everyMs: number) {
    this.#db = db;
    this.#log = log;
    db.pragma("wal_autocheckpoint = 0");
    this.#worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url), {
      workerData: { path: db.name, everyMs },
    });
    // The service's stop decides when the process ends, not this thread.
    this.#worker.unref();
    this.#closed = new Promise<void>((resolve) => {
      this.#worker.once("exit", () => resolve());
    });
    this.#worker.on("message", (raw: unknown) => {
      const m = WorkerMessage.safeParse(raw);
      if (m.success && "error" in m.data) this.#fail(m.data.error);
    });
    this.#worker.on("error", (e) => this.#fail(e.message));
  }

  /** Starts checkpointing `db` in the background; undefined for an in-memory database. */
  static start(db: Db, o: { log: Logger; everyMs?: number }): BackgroundCheckpointer | undefined {
    if (db.memory) return undefined;
    return new BackgroundCheckpointer(db, o.log, o.everyMs ?? DEFAULT_EVERY_MS);
  }

  /** A last checkpoint, then the thread ends; before the service's own connection closes. */
  async close(): Promise<void> {
    if (!this.#failed) this.#worker.postMessage("flush");
    await this.#closed;
  }

  #fail(why: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#log.warn({ why }, "background checkpoints failed: sqlite checkpoints on its own again");
    if (this.#db.open) this.#db.pragma("wal_autocheckpoint = 1000");
    void this.#worker.terminate();
  }
}
