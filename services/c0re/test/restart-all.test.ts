import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type AgentState,
  AgentStateEvent,
  ErrorCode,
  encodeJson,
  HiveError,
  openDatabase,
  rpcs,
  type SendRequest,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, waitUntil } from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { AgentControl } from "../src/agent-control.js";
import { Events } from "../src/events.js";
import { Greeter } from "../src/greeter.js";
import { MetaRepo } from "../src/meta-repo.js";
import { Registry } from "../src/registry.js";
import { RestartAll } from "../src/restart-all.js";
import { writeRunConfig } from "../src/run-config.js";
import { migrations as schemaMigrations } from "../src/schema.js";
import { AgentStates } from "../src/states.js";
import { silentLog, useDriverRigs } from "./rig.js";

/**
 * Restart-all on a test clock: real child processes (the stand-in fixture) are restarted for
 * real, the manager's states come as its harness would publish them (real NATS), and the wait
 * for the manager's idle — two minutes by default — passes only when the test moves the clock.
 */
describe("restart-all: the manager first, then the others (test clock)", () => {
  const rigs = useDriverRigs("c0re-restart-all-");
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let sysSend: Service;
  /** What c0re told agents through `hive.sys.send` (the broker's part, played by the test). */
  const told: SendRequest[] = [];

  beforeAll(async () => {
    server = await natsForTests();
    nc = await connect({ servers: server.url });
    sysSend = serve(nc, subjects.sys.send, rpcs.send, (req) => {
      told.push(req);
      return { id: told.length, duplicate: false, sent_at: Date.now() };
    });
    await nc.flush();
  });
  afterAll(async () => {
    await sysSend?.stop();
    await nc?.close();
    await server?.stop();
  });

  /** c0re's parts for restart-all over a rig: manager, amy (running) and bob (stopped). */
  async function setUp() {
    const rig = rigs.make();
    const { driver, clock } = rig;
    const root = rigs.root();
    const log = silentLog;
    const registry = new Registry(openDatabase(":memory:", schemaMigrations));
    const meta = new MetaRepo({ dir: join(root, "meta"), log, defaultModel: "haiku" });
    for (const [name, role] of [
      ["manager", "manager"],
      ["amy", "agent"],
      ["bob", "agent"],
    ] as const) {
      registry.register(name, role, clock.now());
    }
    await meta.init(["manager", "amy", "bob"]);
    registry.setDesired("bob", "stopped");
    const events = new Events(nc, log);
    const agents = new AgentControl({
      registry,
      driver,
      log,
      clock,
      events,
      root,
      prepare: (name) => writeRunConfig(meta, root, name),
    });
    const states = new AgentStates({
      nc,
      log,
      registry,
      isRunning: (n) => driver.status(n).running,
    });
    states.start();
    await nc.flush();
    const life = new AbortController();
    const greeter = new Greeter({ nc, log, clock, signal: life.signal });
    const restartAll = new RestartAll({
      registry,
      agents,
      states,
      greeter,
      clock,
      log,
      signal: life.signal,
    });
    await agents.start("manager");
    await agents.start("amy");
    /** Publishes a state of the manager's, as its harness does. */
    let since = Date.now() + 1000;
    const say = async (state: AgentState) => {
      nc.publish(
        subjects.events.agentState("manager"),
        encodeJson(AgentStateEvent.parse({ agent: "manager", state, since: since++ })),
      );
      await nc.flush();
    };
    const kinds = () => rig.events.map((e) => `${e.agent} ${e.kind}`);
    const done = async () => {
      life.abort();
      await states.stop();
    };
    return { rig, restartAll, say, kinds, done };
  }

  it("restarts the others only once the manager went through a turn and is idle again", async () => {
    const { rig, restartAll, say, kinds, done } = await setUp();
    const before = kinds().length;
    let settled = false;
    const running = restartAll.run().finally(() => {
      settled = true;
    });
    await rig.nth("started", 3); // manager, amy, then the manager again
    await assert.rejects(restartAll.run(), (e: unknown) => HiveError.is(e, ErrorCode.Conflict));
    await say("idle"); // its harness's first idle: not yet through a turn
    await say("thinking");
    await rig.clock.advance(60_000);
    assert.equal(settled, false, "still waiting for the manager's idle");
    assert.deepEqual(kinds().slice(before), ["manager stopped", "manager started"]);
    await say("idle");
    assert.deepEqual(await running, { restarted: ["manager", "amy"], manager_idle: true });
    assert.deepEqual(kinds().slice(before), [
      "manager stopped",
      "manager started",
      "amy stopped",
      "amy started",
    ]);
    const report = await waitUntil(
      () => told.find((t) => t.to === "manager" && t.body.startsWith("c0re: restart-all")),
      { what: "the report" },
    );
    assert.equal(report.body, "c0re: restart-all restarted, in this order: manager, amy.");
    await done();
  });

  it("goes on with the others at the deadline when the manager is not idle again in time", async () => {
    const { rig, restartAll, say, kinds, done } = await setUp();
    const before = kinds().length;
    told.length = 0;
    const running = restartAll.run();
    await rig.nth("started", 3);
    await say("thinking"); // and never idle again
    await rig.clock.advance(119_999);
    assert.deepEqual(kinds().slice(before), ["manager stopped", "manager started"]);
    await rig.clock.advance(1);
    assert.deepEqual(await running, { restarted: ["manager", "amy"], manager_idle: false });
    assert.deepEqual(kinds().slice(before, before + 4), [
      "manager stopped",
      "manager started",
      "amy stopped",
      "amy started",
    ]);
    const report = await waitUntil(() => told.find((t) => t.body.startsWith("c0re: restart-all")), {
      what: "the report",
    });
    assert.match(
      report.body,
      /manager, amy \(you were not idle again in time; the others went ahead\)\.$/,
    );
    await done();
  });
});
