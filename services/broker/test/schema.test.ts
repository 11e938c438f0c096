import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";
import { migrations } from "../src/schema.js";
import { OPEN_RECEIPTS_SQL } from "../src/store.js";

describe("the receipts migrations (schema 2 -> 4)", () => {
  const dir = tempDir("hive-broker-schema-");
  afterAll(() => dir.remove());

  it("moves each message's lease into one receipt and keeps every message", () => {
    const path = join(dir.path, "broker.sqlite");
    const old = openDatabase(path, migrations.slice(0, 2));
    const insert = old.prepare(
      `INSERT INTO messages (sender, recipient, body, sent_at, client_id, delivery_count, lease_until, acked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    insert.run("alice", "bob", "queued", 1, "c1", 0, null, null);
    insert.run("alice", "bob", "leased", 2, null, 1, 9_999_999, null);
    insert.run("bob", "operator", "acked", 3, null, 2, null, 50);
    old.close();

    const db = openDatabase(path, migrations);
    assert.equal(db.pragma("user_version", { simple: true }), 4);
    // Each message counts its receipts not acked yet (schema 4).
    assert.deepEqual(db.prepare("SELECT id, open_receipts FROM messages ORDER BY id").all(), [
      { id: 1, open_receipts: 1 },
      { id: 2, open_receipts: 1 },
      { id: 3, open_receipts: 0 },
    ]);
    assert.deepEqual(
      db.prepare("SELECT id, sender, recipient, body, client_id, acked_at FROM messages").all(),
      [
        {
          id: 1,
          sender: "alice",
          recipient: "bob",
          body: "queued",
          client_id: "c1",
          acked_at: null,
        },
        {
          id: 2,
          sender: "alice",
          recipient: "bob",
          body: "leased",
          client_id: null,
          acked_at: null,
        },
        {
          id: 3,
          sender: "bob",
          recipient: "operator",
          body: "acked",
          client_id: null,
          acked_at: 50,
        },
      ],
    );
    assert.deepEqual(db.prepare("SELECT * FROM receipts ORDER BY message_id").all(), [
      { message_id: 1, recipient: "bob", delivery_count: 0, lease_until: null, acked_at: null },
      {
        message_id: 2,
        recipient: "bob",
        delivery_count: 1,
        lease_until: 9_999_999,
        acked_at: null,
      },
      { message_id: 3, recipient: "operator", delivery_count: 2, lease_until: null, acked_at: 50 },
    ]);
    // Deleting a message takes its receipts with it (the retention sweep relies on it).
    db.prepare("DELETE FROM messages WHERE id = 3").run();
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM receipts WHERE message_id = 3").get() as { n: number })
        .n,
      0,
    );
    db.close();
  });
});

describe("the queries over open receipts", () => {
  const dir = tempDir("hive-broker-plans-");
  afterAll(() => dir.remove());

  it("each reads the partial index of open receipts, not the agent's whole history", () => {
    const db = openDatabase(join(dir.path, "broker.sqlite"), migrations);
    for (const [name, sql] of Object.entries(OPEN_RECEIPTS_SQL)) {
      const plan = db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(
          ...sql
            .split("?")
            .slice(1)
            .map(() => null),
        )
        .map((r) => r.detail)
        .join(" | ");
      assert.match(plan, /USING (COVERING )?INDEX receipts_open\b/, `${name}: ${plan}`);
      assert.doesNotMatch(plan, /receipts_recipient|SCAN receipts/, `${name}: ${plan}`);
    }
    db.close();
  });
});
