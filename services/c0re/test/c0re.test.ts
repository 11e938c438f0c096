import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentInfo,
  childPids,
  decodeJson,
  ErrorCode,
  ErrorReply,
  encodeJson,
  groupAlive,
  HiveError,
  hivePaths,
  type NatsConnection,
  processAlive,
  request,
  rpcs,
  signalGroup,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { cmdline, type Hive, harnessPids as harnessesOf, startHive } from "./hive.js";

/** Every live descendant of `pid`, children first. */
function descendants(pid: number): number[] {
  const kids = childPids(pid).filter(processAlive);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

describe("c0re with real nats, broker, harness and model server", () => {
  let hive: Hive;
  let nc: NatsConnection;
  /** Harnesses of a c0re killed with -9: gone if the lifeline works, killed after the run if not. */
  const orphans: number[] = [];
  const seen = () => hive.seen;
  /** Announcements of mail to the manager. */
  const mail = () => hive.seen.mail.filter((m) => m.to === "manager");

  beforeAll(async () => {
    hive = await startHive("c0re-svc-");
    nc = hive.nc;
  });

  afterAll(async () => {
    // Should the lifeline fail, the harness a killed c0re left must not outlive the test run.
    for (const pid of orphans) {
      if (cmdline(pid).includes("harness/dist/src/main.js")) signalGroup(pid, "SIGKILL");
    }
    await hive?.stop();
  });

  const agents = async () => (await request(nc, subjects.op.agents, rpcs.opAgents, {})).agents;
  const manager = async () => {
    const m = (await agents()).find((a) => a.name === "manager");
    assert.ok(m, "manager is listed");
    return m;
  };
  /** The harness processes c0re runs (its direct children). */
  const harnessPids = () => harnessesOf(hive.c0re);
  const lifecycleOp = (subject: string, name: string) =>
    request(nc, subject, rpcs.opAgentLifecycle, { name }, { timeoutMs: 40_000 });

  it("tells the broker who may be mailed: a roster event on start, and on request", async () => {
    await waitUntil(() => seen().rosters.length > 0, { what: "c0re's roster event" });
    assert.deepEqual(seen().rosters[0]?.agents, ["manager"]);
    const asked = await request(nc, subjects.c0re.roster, rpcs.roster, {});
    assert.deepEqual(asked, seen().rosters.at(-1));
    // The broker goes by it: mail to the manager is taken, to anyone else refused.
    await request(nc, subjects.op.send, rpcs.send, { to: "manager", body: "hello" });
    await assert.rejects(
      request(nc, subjects.op.send, rpcs.send, { to: "nobody", body: "hello" }),
      (e: unknown) =>
        HiveError.is(e, ErrorCode.NotFound) && /the agents are: manager$/.test(e.message),
    );
  });

  it("registers the manager on boot, starts it and greets it in its inbox", async () => {
    const m = await manager();
    assert.equal(m.role, "manager");
    assert.equal(m.running, true);
    assert.equal(m.starts, 1);
    assert.equal(m.state_dir, hivePaths(hive.root).agentStateDir("manager"));
    await waitUntil(
      () => seen().lifecycle.find((e) => e.agent === "manager" && e.event === "started"),
      {
        what: "started lifecycle event",
      },
    );
    const hello = await waitUntil(() => mail().find((a) => a.from === "system"), {
      what: "system message in the manager's inbox",
    });
    assert.match(hello.preview, /^c0re: you were just started for the first time at /);
    assert.equal(harnessPids().length, 1);
    assert.ok(existsSync(join(hive.root, "logs", "manager.log")));
  });

  it("reflects the harness's own state events", async () => {
    const fromHarness = await waitUntil(
      () => seen().states.find((s) => s.agent === "manager" && s.state !== "offline"),
      { timeoutMs: 20_000, what: "a state event from the harness" },
    );
    assert.ok(fromHarness);
    // Settled: whatever the harness said last is what c0re reports.
    await waitUntil(
      async () => {
        const last = seen()
          .states.filter((s) => s.agent === "manager")
          .at(-1);
        const m = await manager();
        return last && m.state === last.state && m.state_since === last.since;
      },
      { timeoutMs: 20_000, what: "registry state equal to the last published state" },
    );
  });

  it("restarts a harness killed with -9, publishes lifecycle events and greets it again", async () => {
    const [pid] = harnessPids();
    assert.ok(pid);
    const before = seen().lifecycle.length;
    process.kill(pid, "SIGKILL");
    await waitUntil(
      () =>
        seen()
          .lifecycle.slice(before)
          .some((e) => e.agent === "manager" && e.event === "started"),
      { timeoutMs: 30_000, what: "restart" },
    );
    const events = seen()
      .lifecycle.slice(before)
      .filter((e) => e.agent === "manager");
    assert.deepEqual(
      events.map((e) => e.event),
      ["exited", "restarting", "started"],
    );
    assert.equal(events[0]?.detail, "signal SIGKILL");
    assert.ok(
      seen().states.some(
        (s) => s.agent === "manager" && s.state === "offline" && s.note === "signal SIGKILL",
      ),
    );
    const again = await waitUntil(
      () =>
        mail().find(
          (a) => a.from === "system" && /restarted after your harness exited/.test(a.preview),
        ),
      { what: "second system message" },
    );
    assert.ok(again);
    assert.equal(mail().filter((a) => a.from === "system").length, 2);
    const m = await manager();
    assert.equal(m.running, true);
    assert.equal(m.starts, 2);
    const pids = harnessPids();
    assert.equal(pids.length, 1);
    assert.notEqual(pids[0], pid);
    assert.equal(processAlive(pid), false);
  });

  it("answers stop, start and restart, with typed errors for conflicts and unknown agents", async () => {
    const stopped = await lifecycleOp(subjects.op.agentStop, "manager");
    assert.equal(stopped.agent.running, false);
    assert.equal(stopped.agent.state, "offline");
    assert.equal(harnessPids().length, 0);
    await assert.rejects(lifecycleOp(subjects.op.agentStop, "manager"), (e: unknown) =>
      HiveError.is(e, ErrorCode.Conflict),
    );
    const started = await lifecycleOp(subjects.op.agentStart, "manager");
    assert.equal(started.agent.running, true);
    assert.equal(started.agent.starts, 3);
    await assert.rejects(lifecycleOp(subjects.op.agentStart, "manager"), (e: unknown) =>
      HiveError.is(e, ErrorCode.Conflict),
    );
    const restarted = await lifecycleOp(subjects.op.agentRestart, "manager");
    assert.equal(restarted.agent.starts, 4);
    assert.equal(harnessPids().length, 1);
    await assert.rejects(lifecycleOp(subjects.op.agentStart, "nobody"), (e: unknown) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    await waitUntil(() => mail().filter((a) => a.from === "system").length === 4, {
      what: "a system message per start",
    });
  });

  it("takes a state event someone publishes, and ignores older ones", async () => {
    const since = Date.now() + 60_000; // newer than anything the live harness will say
    nc.publish(
      subjects.events.agentState("manager"),
      encodeJson({ agent: "manager", state: "compacting", since }),
    );
    await waitUntil(async () => (await manager()).state === "compacting", {
      what: "compacting reflected",
    });
    nc.publish(
      subjects.events.agentState("manager"),
      encodeJson({ agent: "manager", state: "needs-login", since: since - 1 }),
    );
    await nc.flush();
    // c0re handles events in order: once a later request is answered, the stale one was seen.
    const m = await manager();
    assert.equal(m.state, "compacting");
    assert.equal(m.state_since, since);
  });

  it("answers malformed payloads on every c0re subject with bad_request and changes nothing", async () => {
    const snapshot = (list: AgentInfo[]) =>
      list.map(({ name, starts, running, state }) => ({ name, starts, running, state }));
    const beforeList = snapshot(await agents());
    const beforeEvents = seen().lifecycle.length;
    const cases: [string, Uint8Array | string][] = [
      [subjects.op.agents, "{nope"],
      [subjects.op.agents, encodeJson([])],
      [subjects.op.agentStart, encodeJson({})],
      [subjects.op.agentStart, encodeJson({ name: "Bad Name" })],
      [subjects.op.agentStop, "not json"],
      [subjects.op.agentStop, encodeJson({ name: 7 })],
      [subjects.op.agentRestart, encodeJson({ name: "operator" })],
      [subjects.op.agentRestart, ""],
      [subjects.events.agentState("manager"), "{"],
      [
        subjects.events.agentState("manager"),
        encodeJson({ agent: "manager", state: "asleep", since: 1 }),
      ],
      [
        subjects.events.agentState("manager"),
        encodeJson({ agent: "other", state: "idle", since: Date.now() + 120_000 }),
      ],
    ];
    for (const [subject, payload] of cases) {
      const reply = ErrorReply.safeParse(
        decodeJson((await nc.request(subject, payload, { timeout: 5000 })).data),
      );
      assert.equal(reply.data?.error.code, ErrorCode.BadRequest, `${subject} ${String(payload)}`);
    }
    assert.deepEqual(snapshot(await agents()), beforeList);
    assert.equal(seen().lifecycle.length, beforeEvents);
    assert.equal((await manager()).state, "compacting");
  });

  it("kill -9 of c0re takes its harness down, and the claude it runs mid-turn", async () => {
    // Hold the model's next answer (whichever of the manager's pending turns it is), so claude
    // is mid-turn when c0re dies.
    const modelUrl = hive.model.url;
    const script = [{ match: "", hold: true, times: 1, reply: [{ text: "never seen" }] }];
    const put = await fetch(`${modelUrl}/_script`, { method: "PUT", body: JSON.stringify(script) });
    assert.equal(put.status, 200);
    await request(nc, subjects.op.send, rpcs.send, { to: "manager", body: "are you there?" });
    const ModelHealth = z.object({ held: z.number() });
    await waitUntil(
      async () => ModelHealth.parse(await (await fetch(`${modelUrl}/_health`)).json()).held > 0,
      { timeoutMs: 30_000, what: "claude's request held at the model server" },
    );
    const [harness] = harnessPids();
    assert.ok(harness);
    const below = descendants(harness);
    assert.ok(
      below.some((p) => cmdline(p).includes("claude")),
      `claude runs under the harness: ${below.map(cmdline).join("; ")}`,
    );

    orphans.push(harness);
    const t0 = Date.now();
    hive.c0re.child.kill("SIGKILL");
    await hive.c0re.exited;
    await waitUntil(() => ![harness, ...below].some(processAlive) && !groupAlive(harness), {
      timeoutMs: 10_000,
      what: "the harness, claude and the MCP server gone",
    });
    console.log(`kill -9 c0re: its harness and claude were gone after ${Date.now() - t0} ms`);

    // A new c0re on the same root brings the manager back.
    await hive.startC0re();
    const m = await manager();
    assert.equal(m.running, true);
    assert.equal(harnessPids().length, 1);
  });

  it("SIGTERM stops every harness (whole process groups) and exits 0", async () => {
    const pids = harnessPids();
    assert.equal(pids.length, 1);
    const before = seen().lifecycle.length;
    hive.c0re.child.kill("SIGTERM");
    assert.equal(await hive.c0re.exited, 0, hive.c0re.output());
    for (const pid of pids) {
      assert.equal(processAlive(pid), false, `harness ${pid} is gone`);
      await waitUntil(() => !groupAlive(pid), { timeoutMs: 3000, what: "harness group gone" });
    }
    await waitUntil(
      () =>
        seen()
          .lifecycle.slice(before)
          .some((e) => e.event === "stopped"),
      {
        what: "stopped lifecycle event",
      },
    );
    assert.ok(seen().states.some((s) => s.state === "offline" && s.note === "stopped"));
  });
});
