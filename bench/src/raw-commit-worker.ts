/**
 * A worker thread of the scheduler benchmark: `n` single-row durable sqlite commits (WAL,
 * synchronous FULL), one every `gapMs`, in a file of its own, while the scheduler's reminders
 * fall due — the disk's own commit latency at that moment, off the thread that timestamps the
 * deliveries. Posts the ms each commit took.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "@hyperhive/shared";
import * as z from "zod";

const { dir, n, gapMs } = z
  .strictObject({ dir: z.string(), n: z.number().int(), gapMs: z.number() })
  .parse(workerData);
const db = openDatabase(join(dir, "raw.sqlite"), [{ version: 1, sql: "CREATE TABLE t (v TEXT)" }]);
const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
const took: number[] = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  insert.run(`reminder #${i}: a body`);
  took.push(performance.now() - t0);
  await sleep(gapMs);
}
db.close();
parentPort?.postMessage(took);
