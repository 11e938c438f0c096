import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  AgentStateEvent,
  connectNats,
  type NatsConnection,
  openDatabase,
  parseEvent,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import {
  type NatsServerHandle,
  startNatsServer,
  tempDir,
  waitUntil,
} from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import {
  assertBuilt,
  BROKER_MAIN,
  HARNESS_MAIN,
  harnessEnv,
  MODEL_MAIN,
  ModelControl,
  type Proc,
  serveRoster,
  startNode,
  writeTestPrompts,
} from "./procs.js";

/**
 * How long a stop may take here: well within the 5 s c0re's process driver waits between
 * SIGTERM and SIGKILL (a stop after that is no stop, and exits with no flush at all).
 */
const STOP_BUDGET_MS = 3000;

/** How NATS goes away under a harness. */
type NatsLoss = "killed" | "frozen";

/** A hive of its own: a nats-server the test can take away, a broker on it, a roster stand-in. */
interface OwnHive {
  nats: NatsServerHandle;
  nc: NatsConnection;
  broker: Proc;
  states: string[];
}

describe("a harness whose NATS went away still stops on SIGTERM in time", () => {
  const t = tempDir("hive-harness-stop-");
  const prompts = writeTestPrompts(join(t.path, "prompts"));
  let model: Proc;
  let ctl: ModelControl;
  /** Everything a case started, stopped after it whatever happened. */
  let cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    assertBuilt();
    model = await startNode(MODEL_MAIN, ["--port", "0"]);
    ctl = new ModelControl(String(model.ready.url));
  });

  afterEach(async () => {
    for (const f of cleanups.reverse()) await f().catch(() => {});
    cleanups = [];
  });

  afterAll(async () => {
    await ctl?.release().catch(() => 0);
    await model?.stop();
    t.remove();
  });

  async function ownHive(agent: string): Promise<OwnHive> {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop(0));
    // The test's own connection comes back when the server does (reconnects forever).
    const nc = await connectNats({ url: nats.url, name: "stop-test" });
    cleanups.push(() => nc.close());
    serveRoster(nc, [agent]);
    const states: string[] = [];
    const sub = nc.subscribe(subjects.events.agentState(agent));
    (async () => {
      for await (const m of sub) {
        const ev = parseEvent(AgentStateEvent, m);
        if (ev) states.push(ev.state);
      }
    })().catch(() => {});
    await nc.flush();
    const broker = await startNode(BROKER_MAIN, [], {
      env: { NATS_URL: nats.url, BROKER_DB: join(t.path, `${agent}-broker.sqlite`) },
    });
    cleanups.push(() => broker.stop());
    return { nats, nc, broker, states };
  }

  async function startHarness(agent: string, natsUrl: string): Promise<Proc> {
    const h = await startNode(HARNESS_MAIN, ["serve"], {
      env: harnessEnv(
        { natsUrl, root: t.path, agent, prompts, modelUrl: String(model.ready.url) },
        { HIVE_LOG_LEVEL: "debug" },
      ),
    });
    cleanups.push(() => h.stop());
    return h;
  }

  /** SIGTERM, then how the harness exited and how long that took. */
  async function sigterm(h: Proc): Promise<{ code: number | null; ms: number }> {
    const t0 = performance.now();
    h.child.kill("SIGTERM");
    const exit = await h.exited;
    return { code: exit.code, ms: Math.round(performance.now() - t0) };
  }

  /**
   * Takes NATS away from under the harness: `killed`, the server is gone and the connection
   * reset (a crashed host); `frozen`, the server still holds the connection but never answers
   * (a partition: nothing tells the client, so a drain would wait forever).
   */
  async function takeAway(hive: OwnHive, how: NatsLoss): Promise<void> {
    const pid = hive.nats.pid!;
    if (how === "killed") {
      process.kill(pid, "SIGKILL");
      await hive.nats.exited;
    } else {
      process.kill(pid, "SIGSTOP");
      cleanups.push(async () => process.kill(pid, "SIGCONT"));
    }
  }

  /**
   * A harness of `agent` on a hive of its own, caught acking with NATS gone: its turn is held at
   * the model server, NATS is taken away, the turn is let finish, and the harness starts acking.
   */
  async function midAck(
    agent: string,
    how: NatsLoss,
  ): Promise<{ hive: OwnHive; h: Proc; id: number }> {
    const hive = await ownHive(agent);
    await ctl.setScript([{ match: "hold me", hold: true, times: 1, reply: [{ text: "done" }] }]);
    await ctl.clearRequests();
    const h = await startHarness(agent, hive.nats.url);
    await waitUntil(() => hive.states.includes("idle"), { what: "idle" });
    const { id } = await request(hive.nc, subjects.op.send, rpcs.send, {
      to: agent,
      body: "hold me",
    });
    await waitUntil(
      async () => (await ctl.requests()).some((r) => r.kind === "reply" && /hold me/.test(r.text)),
      { timeoutMs: 30_000, what: "the held model request" },
    );
    await takeAway(hive, how);
    // claude finishes its turn with NATS gone: the harness goes on to ack, and no answer comes.
    assert.equal(await ctl.release(), 1);
    await waitUntil(() => /"msg":"acking"/.test(h.stderr()), {
      timeoutMs: 30_000,
      what: "the harness acking",
    });
    return { hive, h, id };
  }

  for (const how of ["killed", "frozen"] as const) {
    it(`mid-ack, NATS ${how}: SIGTERM exits 0 in time, without taking the ack for done`, async () => {
      const agent = how === "killed" ? "ivy" : "kim";
      const { hive, h, id } = await midAck(agent, how);

      const stopped = await sigterm(h);
      assert.equal(stopped.code, 0, h.stderr().slice(-2000));
      assert.ok(stopped.ms < STOP_BUDGET_MS, `stopped in ${stopped.ms} ms`);
      // It says it could not ack, rather than taking the ack for done.
      assert.match(h.stderr(), /ack failed; the message may come again/);
      // A frozen server may still find the ack in its socket buffer when it thaws (a real ack,
      // late); a dead one never got it. Bring that one back: the message is still unacked.
      if (how === "killed") {
        const again = await startNatsServer({ port: hive.nats.port });
        cleanups.push(() => again.stop(0));
        const ack = await waitUntil(
          () =>
            request(hive.nc, subjects.agent.ack(agent), rpcs.ack, { id }).catch(() => undefined),
          { timeoutMs: 15_000, what: "the broker back on NATS" },
        );
        assert.equal(ack.first_ack, true, "the harness never acked it");
      }
    });

    if (how === "killed") {
      it("mid-ack, NATS killed and back on its port: the ack lands, the message never comes again", async () => {
        const agent = "max";
        const { hive, h, id } = await midAck(agent, "killed");
        const again = await startNatsServer({ port: hive.nats.port });
        cleanups.push(() => again.stop(0));
        // The harness's own ack (retried if its reply was lost) lands once NATS is back: the
        // broker's row says so (read beside the running broker; WAL allows it).
        const db = openDatabase(join(t.path, `${agent}-broker.sqlite`), []);
        cleanups.push(async () => db.close());
        const acked = db.prepare<[number], { acked_at: number | null }>(
          "SELECT acked_at FROM messages WHERE id = ?",
        );
        await waitUntil(() => (acked.get(id)?.acked_at ?? null) !== null, {
          timeoutMs: 20_000,
          what: "the harness's ack to land",
        });
        assert.doesNotMatch(h.stderr(), /ack failed; the message may come again/);
        const stopped = await sigterm(h);
        assert.equal(stopped.code, 0, h.stderr().slice(-2000));
      });
    }

    it(`idle, NATS ${how} under the long-poll: SIGTERM exits 0 in time`, async () => {
      const agent = how === "killed" ? "jack" : "lou";
      const hive = await ownHive(agent);
      const h = await startHarness(agent, hive.nats.url);
      await waitUntil(() => hive.states.includes("idle"), { what: "idle" });
      await takeAway(hive, how);
      const stopped = await sigterm(h);
      assert.equal(stopped.code, 0, h.stderr().slice(-2000));
      assert.ok(stopped.ms < STOP_BUDGET_MS, `stopped in ${stopped.ms} ms`);
    });
  }
});
