import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CancelResponse,
  request,
  rpcs,
  SetModelResponse,
  SocketWakeResult,
  subjects,
  WireError,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { Observer } from "./observer.js";
import {
  assertBuilt,
  BROKER_MAIN,
  HARNESS_MAIN,
  harnessEnv,
  MODEL_MAIN,
  ModelControl,
  type Proc,
  rules,
  serveRoster,
  startNode,
  writeTestPrompts,
} from "./procs.js";

const run = promisify(execFile);

/** What `main.js wake` prints: one JSON line, the result or the error. */
const WakeOk = z.strictObject({ ok: z.literal(true), result: SocketWakeResult });
const WakeFailed = z.strictObject({ ok: z.literal(false), error: WireError });

/** Every agent a case below runs. */
const AGENTS = ["alice", "bob", "dave", "erin", "frank", "hank", "ivy", "wendy"];

describe("harness with real nats, broker, model server and claude", () => {
  const t = tempDir("hive-harness-it-");
  const prompts = writeTestPrompts(join(t.path, "prompts"));
  let nats: NatsServerHandle;
  let broker: Proc;
  let model: Proc;
  let ctl: ModelControl;
  let nc: NatsConnection;
  let obs: Observer;
  const harnesses: Proc[] = [];

  beforeAll(async () => {
    assertBuilt();
    nats = await natsForTests();
    nc = await connect({ servers: nats.url });
    serveRoster(nc, AGENTS);
    await nc.flush();
    [broker, model] = await Promise.all([
      startNode(BROKER_MAIN, [], {
        env: { NATS_URL: nats.url, BROKER_DB: join(t.path, "broker.sqlite") },
      }),
      startNode(MODEL_MAIN, ["--port", "0"]),
    ]);
    ctl = new ModelControl(String(model.ready.url));
    obs = new Observer(nc, { recv: true });
    await nc.flush();
  });

  afterAll(async () => {
    for (const h of harnesses) {
      if (h.child.pid && h.child.exitCode === null && h.child.signalCode === null) {
        await h.stop();
      }
    }
    await nc?.close();
    await ctl?.release().catch(() => 0);
    await Promise.all([model?.stop(), broker?.stop()]);
    await nats?.stop();
    t.remove();
  });

  async function startHarness(
    agent: string,
    extra: Record<string, string> = {},
    detached = false,
  ): Promise<Proc> {
    const h = await startNode(HARNESS_MAIN, ["serve"], {
      env: harnessEnv(
        { natsUrl: nats.url, root: t.path, agent, prompts, modelUrl: String(model.ready.url) },
        { HIVE_LEASE_SECONDS: "2", ...extra },
      ),
      detached,
    });
    harnesses.push(h);
    assert.deepEqual(h.ready, { ready: "harness", agent });
    return h;
  }

  async function opSend(to: string, body: string): Promise<number> {
    const r = await request(nc, subjects.op.send, rpcs.send, { to, body });
    return r.id;
  }

  /** Acks as the agent: `first_ack: false` proves the harness had acked it already. */
  async function alreadyAcked(agent: string, id: number): Promise<boolean> {
    const r = await request(nc, subjects.agent.ack(agent), rpcs.ack, { id });
    return !r.first_ack;
  }

  it("a) operator message -> claude calls send -> reply in the operator inbox; events, stats, ack", async () => {
    // The model server still runs its default script (this test goes first).
    const agent = "alice";
    const h = await startHarness(agent);
    await waitUntil(() => obs.statesOf(agent).includes("idle"), { what: "idle" });
    const id = await opSend(agent, "hello from the operator\nsecond line");

    const end = await waitUntil(() => obs.turnEnds(agent)[0], {
      timeoutMs: 60_000,
      what: "turn_end",
    });
    assert.equal(end.kind === "turn_end" && end.ok, true, JSON.stringify(end));
    await waitUntil(() => obs.ackedIds(agent).includes(id), { what: "ack" });
    await waitUntil(() => obs.statesOf(agent).length >= 3, { what: "back to idle" });

    const inbox = await request(nc, subjects.op.inbox, rpcs.opInbox, {});
    const reply = inbox.messages.find((m) => m.from === agent);
    assert.ok(reply, "a reply from alice is in the operator inbox");
    assert.equal(reply.body, "pong: hello from the operator");

    const events = obs.liveOf(agent);
    const start = obs.turnStarts(agent)[0]!;
    assert.deepEqual(start.message, {
      id,
      from: "operator",
      body: "hello from the operator\nsecond line",
      redelivered: false,
    });
    assert.equal(start.pending, 0);
    assert.equal(start.model, "haiku");
    assert.equal(start.seq, 0);
    const streams = events.filter((e) => e.kind === "stream");
    assert.ok(streams.some((e) => e.kind === "stream" && e.event.type === "result"));
    assert.ok(events.every((e) => e.turn_id === start.turn_id));
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
      "seq counts up from 0 without gaps",
    );

    const stats = obs.stats.filter((s) => s.agent === agent);
    assert.equal(stats.length, 1);
    const s = stats[0]!;
    assert.equal(s.message_id, id);
    assert.equal(s.wake_from, "operator");
    assert.equal(s.result, "ok");
    assert.ok(s.tool_calls >= 1);
    assert.equal(s.tool_call_breakdown.mcp__hyperhive__send, 1);
    assert.ok(s.input_tokens > 0 && s.output_tokens > 0);
    assert.ok(s.num_turns >= 1);
    assert.ok(s.context_window !== null && s.context_window > 0);

    assert.deepEqual(obs.statesOf(agent).slice(0, 3), ["idle", "thinking", "idle"]);
    assert.equal(await alreadyAcked(agent, id), true);

    h.child.kill("SIGTERM");
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    assert.equal(existsSync(join(t.path, agent, "run", "hive.sock")), false);
  });

  it("b) kill -9 mid-turn -> the restarted harness gets the message again, redelivered, and acks it", async () => {
    const agent = "bob";
    await ctl.setScript([
      { match: "hold me", hold: true, times: 1, reply: [{ text: "never seen" }] },
      { match: "", reply: [{ text: "Finished on the second try." }] },
    ]);
    await ctl.clearRequests();
    // A 10-minute lease: the redelivery within 30 s below comes from the new harness releasing
    // its dead predecessor's lease at start-up, not from the lease running out.
    const h1 = await startHarness(agent, { HIVE_LEASE_SECONDS: "600" }, true);
    await waitUntil(() => obs.statesOf(agent).includes("idle"), { what: "idle" });
    const id = await opSend(agent, "hold me");
    await waitUntil(
      async () => (await ctl.requests()).some((r) => r.kind === "reply" && /hold me/.test(r.text)),
      { timeoutMs: 30_000, what: "the held model request" },
    );
    assert.equal(obs.statesOf(agent).at(-1), "thinking");
    // The container dies: harness, claude and the MCP child together.
    process.kill(-h1.child.pid!, "SIGKILL");
    assert.equal((await h1.exited).signal, "SIGKILL");
    assert.deepEqual(obs.ackedIds(agent), [], "nothing was acked");
    assert.equal(obs.turnEnds(agent).length, 0);

    await startHarness(agent);
    const again = await waitUntil(() => obs.turnStarts(agent).find((e) => e.message.redelivered), {
      timeoutMs: 30_000,
      what: "redelivered turn_start",
    });
    assert.equal(again.message.id, id);
    assert.equal(again.message.body, "hold me");
    const end = await waitUntil(() => obs.turnEnds(agent)[0], {
      timeoutMs: 60_000,
      what: "turn_end",
    });
    assert.equal(end.kind === "turn_end" && end.ok, true, JSON.stringify(end));
    await waitUntil(() => obs.ackedIds(agent).includes(id), {
      what: "ack after the redelivered turn",
    });
    assert.equal(await alreadyAcked(agent, id), true);
    // claude was told it is a redelivery.
    const texts = (await ctl.requests()).map((r) => r.text);
    assert.ok(
      texts.some((x) => /redelivered: a previous turn on this message did not finish/.test(x)),
    );
  });

  it("d) a body over 4 KiB is refused by the broker and claude sees the tool error", async () => {
    const agent = "dave";
    const big = "x".repeat(5000);
    await ctl.setScript([
      {
        match: "send big",
        times: 1,
        reply: [
          { tool_use: { name: "mcp__hyperhive__send", input: { to: "operator", body: big } } },
          { text: "Could not send." },
        ],
      },
      { match: "", reply: [{ text: "ok" }] },
    ]);
    await ctl.clearRequests();
    await startHarness(agent);
    const id = await opSend(agent, "send big");
    await waitUntil(() => obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what: "ack" });
    const toolResults = obs
      .liveOf(agent)
      .flatMap((e) =>
        e.kind === "stream" && e.event.type === "user" ? [JSON.stringify(e.event)] : [],
      );
    const r = toolResults.find((x) => x.includes("tool_result"));
    assert.ok(r, "a tool_result came back");
    assert.match(r, /"is_error":true/);
    assert.match(r, /body_too_large/);
    const inbox = await request(nc, subjects.op.inbox, rpcs.opInbox, {});
    assert.equal(inbox.messages.filter((m) => m.from === agent).length, 0);
  });

  it("e) SIGTERM mid-turn kills claude, does not ack, exits 0; the message comes back later", async () => {
    const agent = "erin";
    await ctl.setScript([
      { match: "slow job", hold: true, times: 1, reply: [{ text: "never seen" }] },
      { match: "", reply: [{ text: "done" }] },
    ]);
    await ctl.clearRequests();
    const h = await startHarness(agent);
    await waitUntil(() => obs.statesOf(agent).includes("idle"), { what: "idle" });
    const id = await opSend(agent, "slow job");
    await waitUntil(
      async () => (await ctl.requests()).some((r) => r.kind === "reply" && /slow job/.test(r.text)),
      { timeoutMs: 30_000, what: "the held model request" },
    );
    h.child.kill("SIGTERM");
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    const end = obs.turnEnds(agent)[0];
    assert.ok(end && end.kind === "turn_end" && !end.ok && end.note === "harness stopping");
    assert.deepEqual(obs.ackedIds(agent), []);
    assert.equal(obs.stats.filter((st) => st.agent === agent).length, 0);

    await startHarness(agent);
    await waitUntil(() => obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what: "ack" });
    assert.equal(obs.turnStarts(agent).at(-1)?.message.redelivered, true);
  });

  it("f) 'Prompt is too long' -> compacts the session once (state compacting), retries once", async () => {
    const agent = "frank";
    await ctl.setScript(rules.promptTooLongOnce);
    await startHarness(agent);
    const warm = await opSend(agent, "warm up the session");
    await waitUntil(() => obs.ackedIds(agent).includes(warm), {
      timeoutMs: 60_000,
      what: "warm-up",
    });
    const id = await opSend(agent, "this is too long");
    await waitUntil(() => obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what: "ack" });
    const ends = obs.turnEnds(agent);
    assert.equal(ends.length, 2);
    const end = ends[1]!;
    assert.equal(end.kind === "turn_end" && end.ok && end.result, "compacted_retry");
    const st = obs.stats.find((x) => x.agent === agent && x.message_id === id);
    assert.equal(st?.result, "compacted_retry");
    // The ack goes out just before the state returns to idle.
    await waitUntil(() => obs.statesOf(agent).at(-1) === "idle", { what: "idle again" });
    const states = obs.statesOf(agent);
    const i = states.lastIndexOf("compacting");
    assert.ok(i > 0, `states: ${states.join(",")}`);
    assert.deepEqual(states.slice(i - 1), ["thinking", "compacting", "thinking", "idle"]);
    const streams = obs
      .liveOf(agent)
      .filter(
        (e) =>
          e.kind === "stream" &&
          e.event.type === "system" &&
          e.event.subtype === "compact_boundary",
      );
    assert.equal(streams.length, 1, "exactly one compaction");
  });

  it("h) mail an MCP recv leases after its turn is over is not acked with a later turn: it comes again", async () => {
    const agent = "hank";
    await ctl.setScript([
      // First try: claude parks in a long recv; the test kills claude while it waits.
      {
        match: "park here",
        times: 1,
        reply: [
          { tool_use: { name: "mcp__hyperhive__recv", input: { wait_seconds: 120 } } },
          { text: "never seen" },
        ],
      },
      // The retry of the same message is held open, so the harness is mid-turn, not recv'ing.
      { match: "park here", times: 1, hold: true, reply: [{ text: "retried" }] },
      { match: "", reply: [{ text: "ok" }] },
    ]);
    await ctl.clearRequests();
    const h = await startHarness(agent, {
      HIVE_TURN_RETRY_SECONDS: "0.2",
      HIVE_TURN_ATTEMPTS: "3",
    });
    await waitUntil(() => obs.statesOf(agent).includes("idle"), { what: "idle" });
    const id = await opSend(agent, "park here");
    await waitUntil(() => obs.recvs.some((r) => r.agent === agent && r.wait_seconds === 120), {
      timeoutMs: 30_000,
      what: "the MCP recv long-poll",
    });
    // claude dies mid-tool-call; the harness's recv for it is still waiting at the broker.
    const { stdout } = await run("pgrep", ["-P", String(h.child.pid)]);
    for (const pid of stdout.split("\n").filter((x) => x.trim() !== "")) {
      process.kill(Number(pid), "SIGKILL");
    }
    await waitUntil(
      async () =>
        (await ctl.requests()).some((r) => r.kind === "reply" && /retry 2: /.test(r.text)),
      { timeoutMs: 30_000, what: "the held retry" },
    );
    const late = await opSend(agent, "late mail");
    // The dead turn's recv is the only one waiting, so it leases the late mail.
    await waitUntil(() => obs.repliedIds.includes(late), { what: "the stale recv's answer" });
    assert.equal(await ctl.release(), 1);
    await waitUntil(() => obs.ackedIds(agent).includes(id), {
      timeoutMs: 30_000,
      what: "ack of the retried message",
    });
    const lateTurn = await waitUntil(
      () => obs.turnStarts(agent).find((s) => s.message.id === late),
      { timeoutMs: 30_000, what: "a turn on the late mail" },
    );
    assert.equal(lateTurn.message.redelivered, true);
    await waitUntil(() => obs.ackedIds(agent).includes(late), {
      timeoutMs: 30_000,
      what: "ack of the late mail after its own turn",
    });
    assert.ok(
      obs.turnEnds(agent).some((e) => e.turn_id === lateTurn.turn_id),
      "the late mail's own turn ended",
    );
    assert.equal(obs.acks.filter((a) => a.agent === agent && a.id === late).length, 1);
  });

  it("i) `serve` answers the operator's controls: /model is said at once and used by the next turn", async () => {
    const agent = "ivy";
    await ctl.setScript([{ match: "", reply: [{ text: "ok" }] }]);
    await startHarness(agent);
    const idle = await waitUntil(
      () => obs.states.find((s) => s.agent === agent && s.state === "idle"),
      { what: "idle" },
    );
    assert.equal(idle.model, "haiku", "every state event says the model");
    const ctlReq = { timeoutMs: 5000 };
    const set = await request(
      nc,
      subjects.op.ctl.model(agent),
      rpcs.ctlModel,
      { model: "claude-int-b" },
      ctlReq,
    );
    assert.deepEqual(SetModelResponse.parse(set), { model: "claude-int-b", previous: "haiku" });
    await waitUntil(() => obs.states.some((s) => s.agent === agent && s.model === "claude-int-b"), {
      what: "the state event with the new model",
    });
    const none = await request(nc, subjects.op.ctl.cancel(agent), rpcs.ctlCancel, {}, ctlReq);
    assert.deepEqual(CancelResponse.parse(none), { cancelled: false, turn_id: null });
    const id = await opSend(agent, "on the new model");
    await waitUntil(() => obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what: "ack" });
    assert.equal(obs.turnsOn(agent, id)[0]?.model, "claude-int-b");
  });

  it("wake CLI: a wake from inside the container becomes a turn shown from its label", async () => {
    const agent = "wendy";
    await ctl.setScript([{ match: "", reply: [{ text: "Noted." }] }]);
    await startHarness(agent);
    await waitUntil(() => obs.statesOf(agent).includes("idle"), { what: "idle" });
    const woke = await run(
      process.execPath,
      [HARNESS_MAIN, "wake", "--from", "webhook: deploy ok", "--body", "build 42 is live"],
      { env: { ...process.env, HIVE_RUN_DIR: join(t.path, agent, "run") } },
    );
    const { id } = WakeOk.parse(JSON.parse(woke.stdout)).result;
    const start = await waitUntil(() => obs.turnsOn(agent, id)[0], {
      timeoutMs: 60_000,
      what: "the wake's turn",
    });
    assert.deepEqual(start.message, {
      id,
      from: "webhook: deploy ok",
      body: "build 42 is live",
      redelivered: false,
    });
    await waitUntil(() => obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what: "ack" });
    assert.equal(obs.stats.find((s) => s.message_id === id)?.wake_from, "webhook: deploy ok");
  });

  it("wake CLI fails with exit 1 when no harness listens", async () => {
    await assert.rejects(
      run(process.execPath, [HARNESS_MAIN, "wake", "--from", "x", "--body", "y"], {
        env: { ...process.env, HIVE_RUN_DIR: join(t.path, "nobody", "run") },
      }),
      (e: { code?: number; stdout?: string }) => {
        assert.equal(e.code, 1);
        assert.equal(WakeFailed.parse(JSON.parse(e.stdout ?? "")).error.code, "unavailable");
        return true;
      },
    );
  });
});
