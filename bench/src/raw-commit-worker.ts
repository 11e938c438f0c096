/**
 * A worker thread of the scheduler benchmark: {@link durableCommits} one every `gapMs` while the
 * scheduler's reminders fall due — the disk's own commit latency at that moment, off the thread
 * that timestamps the deliveries. Posts the ms each commit took.
 */
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import * as z from "zod";
import { durableCommits } from "./sqlite-commits.js";

const { dir, n, gapMs } = z
  .strictObject({ dir: z.string(), n: z.number().int(), gapMs: z.number() })
  .parse(workerData);
parentPort?.postMessage(await durableCommits(join(dir, "raw.sqlite"), n, gapMs));
