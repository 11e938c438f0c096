import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createLogger,
  ErrorCode,
  HiveError,
  openDatabase,
  request,
  rpcs,
  serve,
  subjects,
} from "@hyperhive/shared";
import { natsForTests, TestClock, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { Broker } from "../src/broker.js";
import { migrations } from "../src/store.js";
import { type Harness, messageRows, publishRoster, snapshot, startHarness } from "./helpers.js";

const send = (h: Harness, subject: string, to: string, body = "hi") =>
  request(h.nc, subject, rpcs.send, { to, body });

describe("who may be mailed (c0re's roster)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.db.exec("DELETE FROM messages");
  });

  it("refuses mail to an agent not on the roster with not_found naming the agents", async () => {
    for (const subject of [subjects.op.send, subjects.agent.send("alice")]) {
      await assert.rejects(send(h, subject, "nobody"), (e: unknown) => {
        assert.ok(HiveError.is(e, ErrorCode.NotFound));
        assert.equal(
          e.message,
          "no agent named nobody; the agents are: alice, bob, carol, dave, mallory",
        );
        return true;
      });
    }
    assert.deepEqual(snapshot(h.db), []);
  });

  it("the operator cannot mail itself; agents can mail the operator and themselves (wake)", async () => {
    await assert.rejects(send(h, subjects.op.send, "operator"), (e: unknown) =>
      HiveError.is(e, ErrorCode.BadRequest),
    );
    assert.deepEqual(snapshot(h.db), []);
    await send(h, subjects.agent.send("alice"), "operator");
    await send(h, subjects.agent.send("alice"), "alice");
    assert.equal(messageRows(h.db).length, 2);
  });

  it("c0re's own notices reach a name it registered before the roster event did", async () => {
    const r = await send(h, subjects.sys.send, "newcomer", "c0re: you were just started");
    assert.equal(r.duplicate, false);
  });

  it("follows newer rosters and ignores older ones", async () => {
    await publishRoster(h.nc, h.broker, ["alice", "erin"], Date.now() + 1000);
    await send(h, subjects.op.send, "erin");
    await assert.rejects(send(h, subjects.op.send, "bob"), (e: unknown) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    // An older one arriving late changes nothing.
    await publishRoster(h.nc, h.broker, ["alice", "erin"], Date.now() + 1000);
    h.nc.publish(
      subjects.events.roster,
      JSON.stringify({ agents: ["alice", "bob", "zed"], at: Date.now() - 60_000 }),
    );
    await h.nc.flush();
    await request(h.nc, subjects.op.inbox, rpcs.opInbox, {});
    assert.equal(h.broker.roster?.has("zed"), false);
    // Put the usual roster back for the other tests.
    await publishRoster(
      h.nc,
      h.broker,
      ["alice", "bob", "carol", "dave", "mallory"],
      Date.now() + 2000,
    );
  });
});

describe("malformed roster events", () => {
  it("are dropped: the roster stays as it was", async () => {
    const h = await startHarness();
    try {
      const before = [...(h.broker.roster ?? [])];
      for (const junk of [
        "not json",
        JSON.stringify({ agents: "alice", at: Date.now() + 10_000 }),
        JSON.stringify({ agents: ["Not A Name"], at: Date.now() + 10_000 }),
        JSON.stringify({ agents: ["zed"], at: Date.now() + 10_000, extra: true }),
        JSON.stringify({ agents: ["zed"] }),
      ]) {
        h.nc.publish(subjects.events.roster, junk);
      }
      assert.equal(h.broker.roster?.has("zed"), false);
      // One subscription handles its events in order: once a good one after the junk is taken,
      // the junk was seen and dropped.
      await publishRoster(h.nc, h.broker, [...before, "marker"], Date.now() + 20_000);
      assert.deepEqual([...(h.broker.roster ?? [])].sort(), [...before, "marker"].sort());
    } finally {
      await h.close();
    }
  });
});

describe("a broker that has never heard a roster", () => {
  it("says it does not know the agents yet, asks c0re, and keeps what it learnt across a restart", async () => {
    const server = await natsForTests();
    const dir = tempDir("hive-broker-roster-");
    const nc = await connect({ servers: server.url });
    const log = createLogger("broker", { level: "silent" });
    const clock = new TestClock();
    const dbPath = join(dir.path, "broker.sqlite");
    try {
      const db = openDatabase(dbPath, migrations);
      const brokerNc = await connect({ servers: server.url });
      const broker = new Broker({ nc: brokerNc, db, log, clock });
      await broker.start();
      await assert.rejects(
        request(nc, subjects.op.send, rpcs.send, { to: "manager", body: "hi" }),
        (e: unknown) => HiveError.is(e, ErrorCode.Unavailable) && e.retryable,
      );
      // A broadcast has no recipients to go by either, even from c0re's own system user.
      await assert.rejects(
        request(nc, subjects.sys.send, rpcs.send, { to: "*", body: "all of you" }),
        (e: unknown) => HiveError.is(e, ErrorCode.Unavailable) && e.retryable,
      );
      // c0re comes up and answers the broker's retried question.
      let asked = 0;
      const c0re = serve(nc, subjects.c0re.roster, rpcs.roster, () => {
        asked++;
        return { agents: ["manager"], at: 1 };
      });
      await nc.flush();
      await waitUntil(
        async () => {
          await clock.advance(2_000);
          return broker.roster?.has("manager");
        },
        { what: "the broker to get the roster from c0re" },
      );
      assert.ok(asked >= 1);
      await c0re.stop();
      await request(nc, subjects.op.send, rpcs.send, { to: "manager", body: "hi" });
      await broker.stop();
      await brokerNc.drain();
      db.close();

      // Restarted while c0re is down: it still knows.
      const db2 = openDatabase(dbPath, migrations);
      const nc2 = await connect({ servers: server.url });
      const again = new Broker({ nc: nc2, db: db2, log, clock });
      await again.start();
      assert.deepEqual([...(again.roster ?? [])], ["manager"]);
      await request(nc, subjects.op.send, rpcs.send, { to: "manager", body: "again" });
      await again.stop();
      await nc2.drain();
      db2.close();
    } finally {
      await nc.drain();
      await server.stop();
      dir.remove();
    }
  });
});
