import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase, request, rpcs, type ServiceProcess, subjects } from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  tempDir,
  waitUntil,
  withTimeout,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { clientId } from "../src/message.js";
import { migrations, ReminderStore } from "../src/store.js";
import { inbox } from "./helpers.js";
import {
  AGENTS,
  brokerMail,
  deliveredIn,
  insertDue,
  RosterStandIn,
  spawnBroker,
  spawnScheduler,
} from "./hive.js";

describe("the built scheduler as a child process", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let roster: RosterStandIn;
  let broker: ServiceProcess;
  const dir = tempDir("hive-scheduler-proc-");
  const brokerDb = join(dir.path, "broker.sqlite");
  // Every child a test spawned, stopped in afterAll() even when the test failed half-way.
  const spawned: ServiceProcess[] = [];
  const scheduler = async (dbPath: string) => {
    const p = await spawnScheduler(server.url, dbPath);
    spawned.push(p);
    return p;
  };
  beforeAll(async () => {
    server = await natsForTests();
    nc = await connect({ servers: server.url });
    roster = new RosterStandIn(nc, AGENTS);
    await nc.flush();
    broker = await spawnBroker(server.url, brokerDb);
  });
  afterAll(async () => {
    await Promise.all(spawned.map((p) => p.stop(2000)));
    await broker.stop(5000);
    await roster.stop();
    await nc.drain();
    await server.stop();
    dir.remove();
  });

  it("prints its ready line, answers, and exits 0 on SIGTERM", async () => {
    const dbPath = join(dir.path, "ready.sqlite");
    const p = await scheduler(dbPath);
    assert.equal(p.readyLine.ready, "scheduler");
    assert.equal(p.readyLine.db, dbPath);
    assert.equal(p.readyLine.pending, 0);
    const r = await request(nc, subjects.agent.remind("alice"), rpcs.remind, {
      body: "hello",
      in_seconds: 3600,
    });
    assert.equal(r.reminder.owner, "alice");
    p.child.kill("SIGTERM");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 0, signal: null });
    // It was durable: the next start has it pending.
    const again = await scheduler(dbPath);
    assert.equal(again.readyLine.pending, 1);
    await again.stop(5000);
  });

  /** `n` reminders for `owner`, all due `inMs` from now, in a fresh file, before it is served. */
  function seed(dbPath: string, owner: string, n: number, inMs: number) {
    const db = openDatabase(dbPath, migrations);
    const store = new ReminderStore(db);
    const ids = insertDue(store, owner, n, Date.now() + inMs);
    db.close();
    return { ids, tag: store.tag };
  }

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`${signal} in the middle of 1,000 deliveries due at once: every occurrence lands exactly once`, async () => {
      const owner = signal === "SIGKILL" ? "bob" : "carol";
      const dbPath = join(dir.path, `${signal}.sqlite`);
      // Each case has a file of its own, ids from 1 again, on the same broker: the file's tag in
      // the client ids keeps the second file's deliveries from passing for the first one's.
      const { ids, tag } = seed(dbPath, owner, 1000, 1500);
      const mail = inbox(nc, owner);
      await nc.flush();
      const first = await scheduler(dbPath);
      await mail.count(200, "announcements before the stop", 20_000);
      first.child.kill(signal);
      const exit = await withTimeout(first.exited, 10_000, "exit");
      if (signal === "SIGKILL") assert.equal(exit.signal, "SIGKILL");
      else assert.deepEqual(exit, { code: 0, signal: null });
      const inBroker = brokerMail(brokerDb).filter((m) => m.recipient === owner).length;
      const recorded = deliveredIn(dbPath, owner);
      assert.ok(inBroker < 1000, "stopped in the middle");
      assert.ok(recorded <= inBroker);

      const second = await scheduler(dbPath);
      await waitUntil(() => deliveredIn(dbPath, owner) === 1000, {
        what: "every occurrence recorded",
        timeoutMs: 30_000,
      });
      await mail.count(1000, "announcements", 10_000);
      const stored = brokerMail(brokerDb).filter((m) => m.recipient === owner);
      assert.equal(stored.length, 1000, "one message per reminder");
      assert.deepEqual(
        stored.map((m) => m.client_id).sort(),
        ids.map((id) => clientId(id, 1, tag)).sort(),
      );
      assert.ok(stored.every((m) => m.sender === "reminder"));
      await nc.flush();
      assert.equal(mail.seen.length, 1000, "each announced once: nothing was stored twice");
      console.log(
        `${signal} mid-delivery: ${inBroker} of 1000 in the broker at the stop, ${recorded} ` +
          `recorded; the restart resent ${inBroker - recorded} (answered duplicate) and sent the rest`,
      );
      await second.stop(5000);
      mail.stop();
    });
  }
});
