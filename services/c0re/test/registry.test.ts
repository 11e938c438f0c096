import assert from "node:assert/strict";
import { openDatabase } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { Registry } from "../src/registry.js";
import { migrations } from "../src/schema.js";

describe("registry", () => {
  it("lists the manager first, then by age, and stores states only when they change", () => {
    const db = openDatabase(":memory:", migrations);
    const reg = new Registry(db);
    assert.equal(reg.register("zed", "agent", 1), true);
    assert.equal(reg.register("manager", "manager", 2), true);
    assert.equal(reg.register("amy", "agent", 3), true);
    assert.equal(reg.register("amy", "agent", 4), false, "registered once");
    assert.deepEqual(
      reg.list().map((r) => r.name),
      ["manager", "zed", "amy"],
    );
    assert.equal(reg.setState("amy", "idle", 10), true);
    assert.equal(reg.setState("amy", "idle", 10), false);
    assert.equal(reg.setState("nobody", "idle", 10), false);
    reg.recordStart("amy", 11);
    assert.deepEqual(reg.get("amy"), {
      name: "amy",
      role: "agent",
      created_at: 3,
      desired: "running",
      started_at: 11,
      starts: 1,
      state: "idle",
      state_since: 10,
      model: null,
      tombstoned_at: null,
    });
    db.close();
  });

  it("keeps the model its harness said, makes tombstones once, and frees a removed name", () => {
    const db = openDatabase(":memory:", migrations);
    const reg = new Registry(db);
    reg.register("manager", "manager", 1);
    reg.register("amy", "agent", 2);
    reg.setModel("amy", "sonnet");
    assert.equal(reg.get("amy")?.model, "sonnet");
    assert.equal(reg.tombstone("amy", 5), true);
    assert.equal(reg.tombstone("amy", 6), false, "a tombstone once");
    assert.deepEqual([reg.get("amy")?.tombstoned_at, reg.get("amy")?.desired], [5, "stopped"]);
    assert.deepEqual(
      reg.active().map((r) => r.name),
      ["manager"],
    );
    assert.equal(reg.list().length, 2, "tombstones stay listed");
    reg.remove("amy");
    assert.equal(reg.get("amy"), undefined);
    assert.equal(reg.register("amy", "agent", 7), true, "the name is free again");
    db.close();
  });

  it("refuses a row that is not what the schema says, instead of passing it on", () => {
    const db = openDatabase(":memory:", migrations);
    const reg = new Registry(db);
    reg.register("amy", "agent", 1);
    // The column has no CHECK: a hand edit (or an older c0re) could leave anything there.
    db.prepare("UPDATE agents SET state = 'asleep' WHERE name = 'amy'").run();
    assert.throws(() => reg.get("amy"), /state/);
    assert.throws(() => reg.list(), /state/);
    db.close();
  });
});
