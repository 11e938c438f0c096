import assert from "node:assert/strict";
import { openDatabase } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApprovalsStore } from "../src/approvals-store.js";
import { migrations } from "../src/schema.js";

const sha = (c: string) => c.repeat(40);

describe("approvals store (sqlite)", () => {
  it("keeps the queue newest first, decides each approval once, and never gives an id twice", () => {
    const db = openDatabase(":memory:", migrations);
    const store = new ApprovalsStore(db);
    const spawn = store.add(
      { kind: "spawn", submitter: "manager", summary: "spawn amy", details: { name: "amy" } },
      10,
    );
    const details = { agent: "amy", commit: sha("a"), base: sha("b"), diff: "-x\n+y\n" };
    const apply = store.add(
      { kind: "apply_commit", submitter: "manager", summary: "config of amy", details },
      11,
    );
    assert.deepEqual(spawn, {
      id: 1,
      kind: "spawn",
      submitter: "manager",
      summary: "spawn amy",
      details: { name: "amy" },
      created_at: 10,
      state: "pending",
      decided_at: null,
      decided_by: null,
      note: null,
    });
    assert.deepEqual(apply.details, details);
    assert.deepEqual(
      store.list(false).map((a) => a.id),
      [2, 1],
    );
    assert.deepEqual(store.pendingSpawns(), ["amy"]);

    const denied = store.decide(1, { state: "denied", note: "no", at: 12 });
    assert.deepEqual(
      [denied?.state, denied?.note, denied?.decided_at, denied?.decided_by],
      ["denied", "no", 12, "operator"],
    );
    assert.equal(store.decide(1, { state: "approved", note: null, at: 13 }), undefined, "once");
    assert.equal(store.get(1)?.state, "denied");
    assert.deepEqual(store.pendingSpawns(), []);
    assert.deepEqual(
      store.list(false).map((a) => a.id),
      [2],
    );
    assert.deepEqual(
      store.list(true).map((a) => a.id),
      [2, 1],
    );

    db.prepare("DELETE FROM approvals WHERE id = 2").run();
    const next = store.add(
      { kind: "spawn", submitter: "manager", summary: "spawn bo", details: { name: "bo" } },
      14,
    );
    assert.equal(next.id, 3, "the deleted newest id is not given again");
    db.close();
  });

  it("refuses a row that is not what the schema says, instead of passing it on", () => {
    const db = openDatabase(":memory:", migrations);
    const store = new ApprovalsStore(db);
    store.add(
      { kind: "spawn", submitter: "manager", summary: "spawn amy", details: { name: "amy" } },
      1,
    );
    // details of another kind: the table cannot check it, the parse on the way out does.
    db.prepare(`UPDATE approvals SET details = '{"agent":"amy"}' WHERE id = 1`).run();
    assert.throws(() => store.get(1), /name/);
    assert.throws(() => store.list(true), /name/);
    db.close();
  });
});
