/**
 * The thread behind {@link BackgroundCheckpointer}: its own connection to the database, woken by
 * changes of the write-ahead log (inotify, so an idle hive costs nothing), which copies the log
 * into the database at most once per `everyMs` — the fsyncs of a checkpoint happen here, never
 * on the service's event loop.
 */
import { watch } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import * as z from "zod";

const Data = z.strictObject({ path: z.string(), everyMs: z.number().int().positive() });
const Command = z.enum(["flush"]);

const { path, everyMs } = Data.parse(workerData);
if (!parentPort) throw new Error("checkpoint-worker runs as a worker thread");
const port = parentPort;

const db = new Database(path);
db.pragma("busy_timeout = 5000");
// A checkpoint syncs the log before it copies it, and the file after; FULL is what the copy
// needs to be durable before the log is reused.
db.pragma("synchronous = FULL");

let timer: NodeJS.Timeout | undefined;
function checkpoint(): void {
  timer = undefined;
  try {
    // PASSIVE: never waits for the service's writer; frames it cannot take now go next time.
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
}

// Also makes sure the log exists before it is watched.
checkpoint();
const watcher = watch(`${path}-wal`, { persistent: false }, () => {
  timer ??= setTimeout(checkpoint, everyMs);
});
watcher.on("error", (e) => port.postMessage({ error: `watching the log: ${e.message}` }));

port.on("message", (raw: unknown) => {
  if (Command.parse(raw) !== "flush") return;
  clearTimeout(timer);
  checkpoint();
  watcher.close();
  db.close();
  port.postMessage({ closed: true });
  port.close();
});
