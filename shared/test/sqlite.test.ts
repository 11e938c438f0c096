import assert from "node:assert/strict";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { openDatabase } from "../src/sqlite.js";
import { tempDir } from "../src/testing/mod.js";

describe("openDatabase", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it("opens in WAL mode and applies each migration once", () => {
    const path = join(dir.path, "sub", "a.sqlite");
    const migrations = [
      { version: 1, sql: "CREATE TABLE t (x INTEGER)" },
      { version: 2, sql: "ALTER TABLE t ADD COLUMN y TEXT" },
    ];
    const db = openDatabase(path, migrations);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    db.prepare("INSERT INTO t (x, y) VALUES (1, 'a')").run();
    db.close();
    const again = openDatabase(path, migrations);
    assert.equal(again.pragma("user_version", { simple: true }), 2);
    assert.deepEqual(again.prepare("SELECT x, y FROM t").all(), [{ x: 1, y: "a" }]);
    again.close();
  });
});
