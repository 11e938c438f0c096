import assert from "node:assert/strict";
import {
  AgentStateEvent,
  ErrorCode,
  HiveError,
  LiveEvent,
  publishEvent,
  rpcs,
  serve,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { beforeAll, describe, it } from "vitest";
import { browserScope, failedLoad } from "./chromium.js";
import { agentInfo } from "./fixtures.js";
import { record, TOKEN } from "./helpers.js";

/** The turn the cancelled one is, as the harness stand-in reports it. */
const TURN = "alice-1700000000000-4";

describe("the agent page's terminal, in a real headless Chromium (the harness stood in for)", () => {
  /** Every request that reached NATS from the terminal: subject and payload, in order. */
  const asked: Array<{ subject: string; req: unknown }> = [];
  let model = "haiku";
  let busy = false;

  /** Types a line into the terminal and waits for its answer; returns the answer's kind and text. */
  async function type(line: string): Promise<{ kind: string; out: string }> {
    const before = await t.page.locator("#term-log li.term-entry").count();
    await t.page.fill("#term-input", line);
    await t.page.press("#term-input", "Enter");
    const entry = t.page.locator("#term-log li.term-entry").nth(before);
    await entry.and(t.page.locator(':not([data-kind="running"])')).waitFor();
    assert.equal(await entry.locator(".term-in").textContent(), line);
    assert.equal(await t.page.inputValue("#term-input"), "", "the input is cleared");
    return {
      kind: (await entry.getAttribute("data-kind")) ?? "",
      out: (await entry.locator(".term-out").textContent()) ?? "",
    };
  }
  const state = (s: AgentStateEvent["state"]) =>
    publishEvent(t.h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
      agent: "alice",
      state: s,
      since: Date.now(),
      model,
    });

  const t = browserScope((h) => [
    serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("manager"), agentInfo("alice", { model: "haiku" })],
    })),
    serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
    serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
    record(h.nc, subjects.op.ctl.model("alice"), rpcs.ctlModel, (req, subject) => {
      asked.push({ subject, req });
      const previous = model;
      model = req.model;
      state("idle"); // the harness says the model its next turn uses
      return { model, previous };
    }).service,
    record(h.nc, subjects.op.ctl.compact("alice"), rpcs.ctlCompact, (req, subject) => {
      asked.push({ subject, req });
      if (busy) throw new HiveError(ErrorCode.Conflict, "alice is thinking: compact when idle");
      state("compacting");
      return { turn_id: "alice-1700000000000-3" };
    }).service,
    record(h.nc, subjects.op.ctl.newSession("alice"), rpcs.ctlNewSession, (req, subject) => {
      asked.push({ subject, req });
      return { fresh_next_turn: true as const };
    }).service,
    record(h.nc, subjects.op.ctl.cancel("alice"), rpcs.ctlCancel, (req, subject) => {
      asked.push({ subject, req });
      return { cancelled: true, turn_id: TURN };
    }).service,
    record(h.nc, subjects.op.send, rpcs.send, (req, subject) => {
      asked.push({ subject, req: { to: req.to, body: req.body } });
      return { id: 41, duplicate: false, sent_at: Date.now() };
    }).service,
  ]);
  beforeAll(async () => {
    await t.page.goto(`${t.url}/agents/alice?token=${TOKEN}`);
    await t.page.locator("#conn", { hasText: "live" }).waitFor();
  });

  it("/help lists the commands; an unknown one or a bad argument is refused on the page", async () => {
    const help = await type("/help");
    assert.equal(help.kind, "info");
    for (const cmd of ["/model <name>", "/compact", "/new-session", "/cancel", "/help"]) {
      assert.ok(help.out.includes(cmd), `${cmd} in /help`);
    }
    assert.deepEqual(await type("/frobnicate"), {
      kind: "error",
      out: "unknown command /frobnicate: /help lists them",
    });
    assert.deepEqual(await type("/model a b"), { kind: "error", out: "usage: /model <name>" });
    assert.deepEqual(await type("/cancel now"), {
      kind: "error",
      out: "/cancel takes no arguments",
    });
    const bad = await type("/model -rf");
    assert.equal(bad.kind, "error");
    assert.match(bad.out, /^bad_request: model: a model name/);
    assert.deepEqual(asked, [], "nothing of it reached the hive");
  });

  it("/model sets the model of the next turns; the chip follows the harness's state event", async () => {
    assert.equal(await t.page.locator("#agent-model").textContent(), "haiku");
    assert.deepEqual(await type("/model"), { kind: "info", out: "model haiku" });
    assert.deepEqual(await type("/model sonnet"), {
      kind: "ok",
      out: "model sonnet (was haiku): its next turn uses it",
    });
    await t.page.locator("#agent-model", { hasText: "sonnet" }).waitFor();
    assert.deepEqual(asked.splice(0), [
      { subject: "hive.op.ctl.alice.model", req: { model: "sonnet" } },
    ]);
  });

  it("/compact compacts now (the badge shows it); when the agent is busy, the conflict shows", async () => {
    const r = await type("/compact");
    assert.equal(r.kind, "ok");
    assert.match(r.out, /^compacting as turn alice-1700000000000-3/);
    await t.page.locator("#agent-state", { hasText: "compacting" }).waitFor();
    state("idle");
    await t.page.locator("#agent-state", { hasText: "idle" }).waitFor();

    busy = true;
    assert.deepEqual(await type("/compact"), {
      kind: "error",
      out: "conflict: alice is thinking: compact when idle",
    });
    assert.deepEqual(t.errors.splice(0), [failedLoad(409, "Conflict")]);
    assert.deepEqual(asked.splice(0), [
      { subject: "hive.op.ctl.alice.compact", req: {} },
      { subject: "hive.op.ctl.alice.compact", req: {} },
    ]);
  });

  it("/new-session and /cancel reach the harness; the cancelled turn shows in the live turns", async () => {
    assert.deepEqual(await type("/new-session"), {
      kind: "ok",
      out: "its next turn starts a fresh session",
    });
    const cancel = await type("/cancel");
    assert.equal(cancel.kind, "ok");
    assert.match(cancel.out, new RegExp(`^cancelled turn ${TURN}: a failed try`));
    assert.deepEqual(asked.splice(0), [
      { subject: "hive.op.ctl.alice.new_session", req: {} },
      { subject: "hive.op.ctl.alice.cancel", req: {} },
    ]);

    // What the harness publishes for a cancelled turn: its note, then its end.
    const at = Date.now();
    const base = { agent: "alice", turn_id: TURN, at };
    publishEvent(t.h.nc, subjects.live("alice"), LiveEvent, {
      ...base,
      seq: 7,
      kind: "note",
      text: "cancelled by the operator",
    });
    publishEvent(t.h.nc, subjects.live("alice"), LiveEvent, {
      ...base,
      seq: 8,
      kind: "turn_end",
      ok: false,
      result: "cancelled",
      note: "retrying in 2 s (try 2 of 3)",
    });
    const card = t.page.locator(`article.turn[data-turn="${TURN}"]`);
    await card.locator(".ev.end").waitFor();
    assert.match((await card.locator(".ev.note").textContent()) ?? "", /cancelled by the operator/);
    assert.match((await card.locator(".ev.end").textContent()) ?? "", /turn end · cancelled/);
    assert.equal(await card.locator(".ev.end.error").count(), 1);
  });

  it("plain text is a message to the agent; //text sends /text; ArrowUp recalls the last line", async () => {
    assert.deepEqual(await type("please rebase onto main"), {
      kind: "ok",
      out: "sent #41 to alice",
    });
    assert.deepEqual(await type("//tmp is full"), { kind: "ok", out: "sent #41 to alice" });
    await waitUntil(() => asked.length === 2, { what: "both sends" });
    assert.deepEqual(asked.splice(0), [
      { subject: subjects.op.send, req: { to: "alice", body: "please rebase onto main" } },
      { subject: subjects.op.send, req: { to: "alice", body: "/tmp is full" } },
    ]);
    await t.page.press("#term-input", "ArrowUp");
    assert.equal(await t.page.inputValue("#term-input"), "//tmp is full");
    await t.page.press("#term-input", "ArrowUp");
    assert.equal(await t.page.inputValue("#term-input"), "please rebase onto main");
    await t.page.press("#term-input", "ArrowDown");
    await t.page.press("#term-input", "ArrowDown");
    assert.equal(await t.page.inputValue("#term-input"), "", "back at a fresh line");
    await t.page.screenshot({ path: "/tmp/hive-terminal.png", fullPage: true });
  });
});
