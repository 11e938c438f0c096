import assert from "node:assert/strict";
import {
  AgentLifecycleEvent,
  AgentStateEvent,
  type Approval,
  ApprovalEvent,
  InboxAnnouncement,
  LiveEvent,
  publishEvent,
  QuestionEvent,
  rpcs,
  type Service,
  ServiceEvent,
  serve,
  subjects,
} from "@hyperhive/shared";
import { startNatsServer, TestClock, waitUntil } from "@hyperhive/shared/testing";
import { connect } from "@nats-io/transport-node";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, it } from "vitest";
import * as z from "zod";
import { buildApp } from "../src/app.js";
import { SseHub } from "../src/sse.js";
import { AgentLiveEvents, DashboardEvents } from "../src/wire.js";
import { agentInfo, commitApproval, question, stored } from "./fixtures.js";
import { type Harness, listenLocal, startHarness, TOKEN, testLog } from "./helpers.js";
import { SseClient } from "./sse-client.js";

const base = (seq: number) => ({ agent: "alice", turn_id: "alice-1-1", seq, at: Date.now() });

describe("SSE streams", () => {
  const clock = new TestClock();
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness({ heartbeatMs: 15_000, clock });
    url = await h.listen();
  });
  afterAll(async () => {
    await h.stop();
  });

  it("streams hive.live.<agent> LiveEvents, dropping malformed ones", async () => {
    const sse = await SseClient.open(`${url}/api/agents/alice/live`);
    assert.equal(sse.status, 200);
    assert.deepEqual(await sse.take(AgentLiveEvents, "history"), { agent: "alice", events: [] });
    assert.equal((await sse.take(AgentLiveEvents, "ready")).agent, "alice");

    publishEvent(h.nc, subjects.live("alice"), LiveEvent, {
      ...base(0),
      kind: "turn_start",
      message: { id: 5, from: "operator", body: "hi alice", redelivered: false },
      pending: 0,
      model: "haiku",
    });
    // Malformed: not JSON, wrong shape, another agent's event on alice's subject.
    h.nc.publish(subjects.live("alice"), "{not json");
    h.nc.publish(subjects.live("alice"), JSON.stringify({ ...base(1), kind: "bogus" }));
    h.nc.publish(
      subjects.live("alice"),
      JSON.stringify({ ...base(1), agent: "bob", kind: "note", text: "spoofed" }),
    );
    publishEvent(h.nc, subjects.live("alice"), LiveEvent, {
      ...base(1),
      kind: "stream",
      event: {
        type: "assistant",
        message: { content: [{ type: "text", text: "hello operator" }] },
      },
    });
    publishEvent(h.nc, subjects.live("bob"), LiveEvent, {
      ...base(2),
      agent: "bob",
      kind: "note",
      text: "bob's",
    });
    publishEvent(h.nc, subjects.live("alice"), LiveEvent, {
      ...base(2),
      kind: "turn_end",
      ok: true,
      result: "ok",
    });

    const got: LiveEvent[] = [];
    for (let i = 0; i < 3; i++) got.push(await sse.take(AgentLiveEvents, "live"));
    assert.deepEqual(
      got.map((e) => [e.kind, e.seq]),
      [
        ["turn_start", 0],
        ["stream", 1],
        ["turn_end", 2],
      ],
    );
    const stream = got[1]!;
    assert.equal(stream.kind, "stream");
    assert.deepEqual(stream.event, {
      type: "assistant",
      message: { content: [{ type: "text", text: "hello operator" }] },
    });
    assert.equal(sse.events.length, 5, "nothing else was forwarded");

    // Heartbeat comments keep the stream alive: one per 15 s on the app's clock.
    const before = sse.comments;
    await clock.advance(14_999);
    assert.equal(sse.comments, before, "a heartbeat came early");
    await clock.advance(1);
    await waitUntil(() => sse.comments === before + 1, { what: "a heartbeat comment" });

    // The client goes away: its stream ends and no longer follows the app's one subscription.
    assert.equal(h.app.sseHub.size, 1);
    assert.equal(h.app.turnHistory.followers("alice"), 1);
    await sse.close();
    await waitUntil(() => h.app.sseHub.size === 0, { what: "stream cleanup" });
    assert.equal(h.app.turnHistory.followers("alice"), 0);
  });

  it("sends an agent's recent turns as history on connect, then new events live: none missed, none twice", async () => {
    const turn = { agent: "dave", turn_id: "dave-1-1" };
    const note = (seq: number, turn_id = turn.turn_id): LiveEvent => ({
      ...turn,
      turn_id,
      seq,
      at: Date.now(),
      kind: "note",
      text: `note ${seq}`,
    });
    const before: LiveEvent[] = [
      {
        ...turn,
        seq: 0,
        at: Date.now(),
        kind: "turn_start",
        message: { id: 9, from: "operator", body: "hi dave", redelivered: false },
        pending: 0,
        model: "haiku",
      },
      note(1),
      note(2),
    ];
    for (const ev of before) publishEvent(h.nc, subjects.live("dave"), LiveEvent, ev);
    // Another agent's events stay out of dave's history.
    publishEvent(h.nc, subjects.live("erin"), LiveEvent, { ...note(0, "erin-1-1"), agent: "erin" });
    await waitUntil(() => h.app.turnHistory.events("dave").length === before.length, {
      what: "the web to keep dave's events",
    });

    const sse = await SseClient.open(`${url}/api/agents/dave/live`);
    assert.deepEqual(await sse.take(AgentLiveEvents, "history"), { agent: "dave", events: before });
    assert.equal((await sse.take(AgentLiveEvents, "ready")).agent, "dave");
    const end: LiveEvent = {
      ...turn,
      seq: 4,
      at: Date.now(),
      kind: "turn_end",
      ok: true,
      result: "ok",
    };
    const after = [note(3), end];
    for (const ev of after) publishEvent(h.nc, subjects.live("dave"), LiveEvent, ev);
    const live: LiveEvent[] = [];
    for (const _ of after) live.push(await sse.take(AgentLiveEvents, "live"));
    assert.deepEqual(live, after);

    // A reconnect (a reload) gets it all as history, once, and nothing repeated live.
    const again = await SseClient.open(`${url}/api/agents/dave/live`);
    assert.deepEqual((await again.take(AgentLiveEvents, "history")).events, [...before, ...after]);
    await again.take(AgentLiveEvents, "ready");
    // Each stream gets each new event once: the one after it comes next, not a repeat.
    const next = [note(0, "dave-1-2"), note(1, "dave-1-2")];
    for (const ev of next) publishEvent(h.nc, subjects.live("dave"), LiveEvent, ev);
    for (const c of [sse, again]) {
      assert.deepEqual(await c.take(AgentLiveEvents, "live"), next[0]);
      assert.deepEqual(await c.take(AgentLiveEvents, "live"), next[1]);
    }
    await sse.close();
    await again.close();
  });

  it("cold-loads agents (tombstones too), inbox, approvals and questions, then forwards state, lifecycle, inbox, approval, question and service events", async () => {
    const asked: unknown[] = [];
    const queued = commitApproval(4, "alice");
    const asking = question(7, "alice", { options: ["yes", "no"] });
    const between = question(8, "alice", { target: "bob" });
    const services: Service[] = [
      serve(h.nc, subjects.op.agents, rpcs.opAgents, (req) => {
        asked.push(["agents", req]);
        return {
          agents: [agentInfo("alice"), agentInfo("zed", { tombstoned_at: 1, running: false })],
        };
      }),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({
        messages: [stored(2, "alice", "second"), stored(1, "alice", "first")],
      })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, (req) => {
        asked.push(["approvals", req]);
        return { approvals: [queued] };
      }),
      serve(h.nc, subjects.op.questions, rpcs.opQuestions, (req) => {
        asked.push(["questions", req]);
        return { questions: [between, asking] };
      }),
    ];
    await h.nc.flush();
    const sse = await SseClient.open(`${url}/api/events`);
    // Parsed as the page parses it: with the wire's schema (strict).
    const s = await sse.take(DashboardEvents, "snapshot");
    assert.deepEqual(
      s.agents?.map((a) => [a.name, a.tombstoned_at]),
      [
        ["alice", null],
        ["zed", 1],
      ],
    );
    assert.deepEqual(
      s.inbox?.map((m) => m.id),
      [2, 1],
    );
    assert.deepEqual(s.approvals, [queued]);
    assert.deepEqual(s.questions, [between, asking], "agents' questions to each other too");
    // No scheduler here: its part is null and says why (reminders-sse.test.ts serves it).
    assert.deepEqual(s.errors, {
      agents: null,
      inbox: null,
      approvals: null,
      questions: null,
      reminders: { code: "unavailable", message: s.errors.reminders?.message, retryable: true },
    });
    assert.equal(s.reminders, null);
    assert.deepEqual(
      asked.sort(),
      [
        ["agents", { all: true }],
        ["approvals", { all: true }],
        ["questions", { all: true }],
      ],
      "the dashboard shows tombstones, decided approvals and closed questions",
    );

    const now = Date.now();
    publishEvent(h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
      agent: "alice",
      state: "thinking",
      since: now,
    });
    h.nc.publish(
      subjects.events.agentState("alice"),
      JSON.stringify({ agent: "alice", state: "dancing", since: now }),
    );
    // A state event for bob on alice's subject is dropped.
    h.nc.publish(
      subjects.events.agentState("alice"),
      JSON.stringify({ agent: "bob", state: "idle", since: now }),
    );
    publishEvent(h.nc, subjects.events.agentLifecycle("alice"), AgentLifecycleEvent, {
      agent: "alice",
      event: "exited",
      at: now,
      detail: "code 1",
    });
    // Mail for an agent is not the operator's business on this stream.
    publishEvent(h.nc, subjects.inbox("alice"), InboxAnnouncement, {
      id: 4,
      from: "bob",
      to: "alice",
      preview: "not for the operator",
      sent_at: now,
    });
    publishEvent(h.nc, subjects.inbox("operator"), InboxAnnouncement, {
      id: 3,
      from: "alice",
      to: "operator",
      preview: "done!",
      sent_at: now,
    });

    // Every change of an approval; a malformed one is dropped.
    const approved: Approval = {
      ...queued,
      state: "approved",
      decided_at: now,
      decided_by: "operator",
      note: "alice restarted with it",
    };
    h.nc.publish(
      subjects.events.approvals,
      JSON.stringify({ approval: { ...approved, state: "maybe" } }),
    );
    publishEvent(h.nc, subjects.events.approvals, ApprovalEvent, { approval: approved });

    // Every change of a question; a malformed one is dropped.
    const answered = {
      ...asking,
      state: "answered" as const,
      answer: "yes",
      answered_at: now,
      answered_by: "operator",
    };
    h.nc.publish(subjects.events.questions, JSON.stringify({ question: { ...answered, id: 0 } }));
    publishEvent(h.nc, subjects.events.questions, QuestionEvent, { question: answered });

    // hive up's service events; one naming another service than its subject is dropped.
    h.nc.publish(
      subjects.events.service("web"),
      JSON.stringify({ service: "broker", event: "exited", at: now, starts: 1 }),
    );
    publishEvent(h.nc, subjects.events.service("broker"), ServiceEvent, {
      service: "broker",
      event: "restarting",
      at: now,
      detail: "in 250 ms",
      starts: 1,
    });

    assert.deepEqual(await sse.take(DashboardEvents, "state"), {
      agent: "alice",
      state: "thinking",
      since: now,
    });
    assert.equal((await sse.take(DashboardEvents, "lifecycle")).event, "exited");
    assert.equal((await sse.take(DashboardEvents, "inbox")).preview, "done!");
    assert.deepEqual(await sse.take(DashboardEvents, "approval"), { approval: approved });
    assert.deepEqual(await sse.take(DashboardEvents, "question"), { question: answered });
    assert.deepEqual(await sse.take(DashboardEvents, "service"), {
      service: "broker",
      event: "restarting",
      at: now,
      detail: "in 250 ms",
      starts: 1,
    });
    assert.equal(sse.events.length, 7);
    await sse.close();
    await Promise.all(services.map((x) => x.stop()));
  });

  it("still streams events when the cold load fails, saying why", async () => {
    const sse = await SseClient.open(`${url}/api/events`);
    const snap = await sse.take(DashboardEvents, "snapshot");
    assert.equal(snap.agents, null);
    assert.equal(snap.errors.agents?.code, "unavailable");
    assert.equal(snap.errors.inbox?.code, "unavailable");
    assert.equal(snap.approvals, null);
    assert.equal(snap.errors.approvals?.code, "unavailable");
    assert.equal(snap.questions, null);
    assert.equal(snap.errors.questions?.code, "unavailable");
    assert.equal(snap.reminders, null);
    assert.equal(snap.errors.reminders?.code, "unavailable");
    publishEvent(h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
      agent: "alice",
      state: "needs-login",
      since: Date.now(),
      note: "Not logged in",
    });
    assert.equal((await sse.take(DashboardEvents, "state")).state, "needs-login");
    await sse.close();
  });

  it("closing the app ends open SSE streams instead of hanging", async () => {
    const other = await startHarness();
    const otherUrl = await other.listen();
    const live = await SseClient.open(`${otherUrl}/api/agents/alice/live`);
    assert.equal((await live.next()).event, "history");
    const events = await SseClient.open(`${otherUrl}/api/events`);
    assert.equal((await events.next()).event, "snapshot");
    await other.app.close();
    await live.waitEnd();
    await events.waitEnd();
    assert.equal(other.app.sseHub.size, 0);
    await other.stop();
  });
});

describe("SSE when a subscription fails", () => {
  it("ends the stream (no unhandled rejection, no stream left open) on a permissions violation", async () => {
    // The web's NATS user may not subscribe to hive.live.>: the subscription fails on the server.
    const server = await startNatsServer({
      extraConfig: `authorization { users = [ { user: web, password: pw, permissions: {
        publish: { allow: [">"] },
        subscribe: { allow: ["_INBOX.>", "hive.events.>", "hive.inbox.operator"] } } } ] }`,
    });
    const nc = await connect({ servers: server.url, user: "web", pass: "pw" });
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on("unhandledRejection", onRejection);
    const app = await buildApp({ nc, token: TOKEN, log: testLog(), heartbeatMs: 50 });
    try {
      const base = await listenLocal(app);
      const sse = await SseClient.open(`${base}/api/agents/alice/live`);
      assert.equal(sse.status, 200);
      await sse.waitEnd();
      assert.equal(app.sseHub.size, 0);
      assert.deepEqual(rejections, []);
    } finally {
      process.off("unhandledRejection", onRejection);
      await app.close();
      await nc.close();
      await server.stop();
    }
  });
});

describe("SseHub", () => {
  it("sends only payloads that pass their event's schema", async () => {
    const Catalog = { tick: z.strictObject({ n: z.number().int() }) };
    const hub = new SseHub();
    const app = Fastify();
    app.get("/s", async (req, reply) => {
      const stream = hub.open(req, reply, Catalog);
      stream.send("tick", { n: 1 });
      // What a bug elsewhere could hand it (the types allow both): refused, not written.
      stream.send("tick", { n: 1.5 });
      const withExtra = { n: 2, extra: true };
      stream.send("tick", withExtra);
      stream.send("tick", { n: 3 });
      stream.end();
      return reply;
    });
    try {
      const base = await listenLocal(app);
      const sse = await SseClient.open(`${base}/s`, {});
      await sse.waitEnd();
      assert.deepEqual(sse.events, [
        { event: "tick", data: { n: 1 } },
        { event: "tick", data: { n: 3 } },
      ]);
      assert.equal(hub.size, 0);
    } finally {
      await app.close();
    }
  });
});
