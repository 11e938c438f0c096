import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
// From the build: the worker thread is the built checkpoint-worker.js beside it.
import { BackgroundCheckpointer, createLogger, openDatabase } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";

const log = createLogger("test", { level: "silent" });

describe("BackgroundCheckpointer: WAL checkpoints off the event loop", () => {
  const dir = tempDir("hive-ckpt-");
  afterAll(() => dir.remove());

  /** Writes about `pages` 4 KiB pages of rows in one commit each of 50. */
  const fill = (db: ReturnType<typeof openDatabase>, pages: number) => {
    const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < pages / 50; i++) {
      db.transaction(() => {
        for (let j = 0; j < 50; j++) ins.run("x".repeat(3500));
      })();
    }
  };
  const migrations = [{ version: 1, sql: "CREATE TABLE t (v TEXT)" }];

  it("the service's connection never checkpoints; the worker copies the log into the file soon after", async () => {
    const path = join(dir.path, "on.sqlite");
    const db = openDatabase(path, migrations, { synchronous: "NORMAL" });
    const ckpt = BackgroundCheckpointer.start(db, { log, everyMs: 50 });
    assert.ok(ckpt);
    assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 0);
    const before = statSync(path).size;
    fill(db, 1500);
    // Past sqlite's own threshold (1000 pages) with nothing of it in the file yet: the commits
    // did not checkpoint.
    assert.ok(statSync(`${path}-wal`).size > 1000 * 4096);
    await waitUntil(() => statSync(path).size > before + 1000 * 4096, {
      timeoutMs: 10_000,
      what: "the rows checkpointed into the database file",
    });
    await ckpt.close();
    db.close();
  });

  it("without it the same writes stay in the log (what the test above tells apart)", () => {
    const path = join(dir.path, "off.sqlite");
    const db = openDatabase(path, migrations, { synchronous: "NORMAL" });
    db.pragma("wal_autocheckpoint = 0");
    const before = statSync(path).size;
    fill(db, 1500);
    assert.equal(statSync(path).size, before);
    db.close();
  });

  it("close ends the thread after a last checkpoint; an in-memory database gets none", async () => {
    const path = join(dir.path, "close.sqlite");
    const db = openDatabase(path, migrations, { synchronous: "NORMAL" });
    const ckpt = BackgroundCheckpointer.start(db, { log, everyMs: 60_000 });
    const before = statSync(path).size;
    fill(db, 200);
    await ckpt?.close();
    assert.ok(statSync(path).size > before, "the last checkpoint ran at close");
    db.close();
    assert.equal(BackgroundCheckpointer.start(openDatabase(":memory:", []), { log }), undefined);
  });
});
