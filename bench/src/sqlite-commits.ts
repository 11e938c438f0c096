import { setTimeout as sleep } from "node:timers/promises";
import { openDatabase } from "@hyperhive/shared";

/**
 * The raw sqlite baseline: `n` single-row commits with the broker's settings for a send (WAL,
 * synchronous FULL: one fsync each), one every `gapMs` (0: back to back), in a file of their
 * own at `path`. Resolves with the ms each commit took.
 */
export async function durableCommits(path: string, n: number, gapMs = 0): Promise<number[]> {
  const db = openDatabase(
    path,
    [
      {
        version: 1,
        sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at INTEGER)",
      },
    ],
    { synchronous: "FULL" },
  );
  try {
    const insert = db.prepare("INSERT INTO t (body, at) VALUES (?, ?)");
    const took: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      insert.run(`message ${i}`, Date.now()); // autocommit: one transaction, fsynced
      took.push(performance.now() - t0);
      if (gapMs > 0) await sleep(gapMs);
    }
    return took;
  } finally {
    db.close();
  }
}
