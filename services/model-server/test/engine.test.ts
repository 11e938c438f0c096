/** The rule engine on its own: parsed requests in, decisions out; no server. */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import {
  COMPACT_SUMMARY_TEXT,
  DEFAULT_SCRIPT,
  type Decision,
  DONE_TEXT,
  FALLBACK_TEXT,
  type IdSource,
  MAX_PENDING_TOOL_CALLS,
  MessagesRequest,
  type OutBlock,
  parseScript,
  type RequestMeta,
  ScriptEngine,
} from "../src/mod.js";
import { messagesBody, toolResult, userPrompt } from "./helpers.js";

const META: RequestMeta = {
  time: "2030-01-01T00:00:00.000Z",
  method: "POST",
  path: "/v1/messages",
};
const COMPACT_PROMPT =
  "CRITICAL: Respond with TEXT ONLY.\n\nYour task is to create a detailed summary of the conversation so far, ...";

/** Ids that count up, so answers can be compared whole. */
function countingIds(): IdSource {
  let m = 0;
  let t = 0;
  return { message: () => `msg_${++m}`, toolUse: () => `toolu_${++t}` };
}

function engine(script: unknown): ScriptEngine {
  return new ScriptEngine({ rules: parseScript(script), ids: countingIds() });
}

function request(messages: unknown[], stream = true): MessagesRequest {
  return MessagesRequest.parse(messagesBody(messages, stream));
}

/** The answer's blocks; fails on an error outcome. */
function blocks(d: Decision): OutBlock[] {
  assert.equal(d.outcome.type, "message");
  return d.outcome.type === "message" ? d.outcome.answer.content : [];
}

function stopReason(d: Decision): string | undefined {
  return d.outcome.type === "message" ? d.outcome.answer.stop_reason : undefined;
}

describe("ScriptEngine", () => {
  it("answers an operator message with the send tool, then ends the turn on its result", () => {
    const e = engine(DEFAULT_SCRIPT);
    const prompt = userPrompt("from: operator\nid: 12\n\nhello hive\nmore text");
    const first = e.decide(request([prompt]), META);
    assert.deepEqual(blocks(first), [
      {
        type: "tool_use",
        id: "toolu_1",
        name: "mcp__hyperhive__send",
        input: { to: "operator", body: "pong: hello hive" },
      },
    ]);
    assert.equal(stopReason(first), "tool_use");
    assert.deepEqual(first.entry, {
      ...META,
      model: "claude-haiku-test",
      stream: true,
      system: "You are a test.",
      text: "from: operator\nid: 12\n\nhello hive\nmore text",
      tool_result_ids: [],
      rule: 0,
      kind: "reply",
      compact: false,
      tool_uses: [
        { name: "mcp__hyperhive__send", input: { to: "operator", body: "pong: hello hive" } },
      ],
    });
    assert.equal(e.pendingToolCalls, 1);

    const second = e.decide(request([prompt, toolResult("toolu_1", "sent")]), META);
    assert.deepEqual(blocks(second), [{ type: "text", text: "Replied to the operator." }]);
    assert.equal(stopReason(second), "end_turn");
    assert.equal(second.entry.kind, "continue");
    assert.equal(second.entry.rule, 0);
    assert.deepEqual(second.entry.tool_result_ids, ["toolu_1"]);
    assert.equal(e.pendingToolCalls, 0);
  });

  it("takes the body from the next line when the operator header has no blank line", () => {
    const d = engine(DEFAULT_SCRIPT).decide(request([userPrompt("from: operator\nping")]), META);
    assert.equal(d.entry.rule, 1);
    assert.deepEqual(d.entry.tool_uses[0]?.input, { to: "operator", body: "pong: ping" });
  });

  it("answers anything else with the default script's closing text", () => {
    const d = engine(DEFAULT_SCRIPT).decide(request([userPrompt("You were restarted.")]), META);
    assert.deepEqual(blocks(d), [{ type: "text", text: "Noted. Nothing to do." }]);
    assert.equal(d.entry.kind, "reply");
    assert.equal(d.entry.rule, 2);
  });

  it("templates groups, honours times, chains text before a tool call, overrides usage", () => {
    const e = engine([
      {
        match: "task (?<id>\\d+): (\\w+)",
        times: 1,
        usage: { input_tokens: 7 },
        reply: [
          { text: "on it: {{match.2}}" },
          { tool_use: { name: "mcp__hyperhive__send", input: { to: "m", n: ["{{match.id}}"] } } },
          { text: "finished {{first_line|json}}" },
        ],
      },
    ]);
    const prompt = userPrompt("task 42: build\nsecond line");
    const first = e.decide(request([prompt]), META);
    assert.deepEqual(blocks(first), [
      { type: "text", text: "on it: build" },
      {
        type: "tool_use",
        id: "toolu_1",
        name: "mcp__hyperhive__send",
        input: { to: "m", n: ["42"] },
      },
    ]);
    assert.equal(first.outcome.type === "message" && first.outcome.answer.usage.input_tokens, 7);

    const cont = e.decide(request([prompt, toolResult("toolu_1", "ok")]), META);
    assert.deepEqual(blocks(cont), [{ type: "text", text: 'finished "task 42: build"' }]);
    // The rule's usage holds for its continuations too; the rest is estimated.
    assert.ok(cont.outcome.type === "message");
    assert.equal(cont.outcome.answer.usage.input_tokens, 7);
    assert.ok(cont.outcome.answer.usage.output_tokens > 0);

    // times: 1 is used up: the same prompt now gets the fallback.
    const again = e.decide(request([prompt]), META);
    assert.deepEqual(blocks(again), [{ type: "text", text: FALLBACK_TEXT }]);
    assert.deepEqual([again.entry.kind, again.entry.rule], ["fallback", null]);
  });

  it("cuts a reply after each run of tool calls; parallel calls are one response", () => {
    const e = engine([
      {
        times: 1,
        reply: [
          { tool_use: { name: "a", input: {} } },
          { tool_use: { name: "b", input: {} } },
          { text: "between" },
          { tool_use: { name: "c", input: {} } },
        ],
      },
    ]);
    const first = e.decide(request([userPrompt("go")]), META);
    assert.deepEqual(
      blocks(first).map((b) => (b.type === "tool_use" ? b.name : b.text)),
      ["a", "b"],
    );
    // claude answers parallel calls in one message; either result alone continues the rule too.
    const second = e.decide(request([toolResult("toolu_2", "b done")]), META);
    assert.deepEqual(
      blocks(second).map((b) => (b.type === "tool_use" ? b.name : b.text)),
      ["between", "c"],
    );
    assert.equal(e.decide(request([toolResult("toolu_1", "late")]), META).entry.kind, "fallback");
    // The reply ended with a tool call: its result gets a bare closing text.
    const last = e.decide(request([toolResult("toolu_3", "c done")]), META);
    assert.deepEqual(blocks(last), [{ type: "text", text: DONE_TEXT }]);
    assert.equal(stopReason(last), "end_turn");
  });

  it("answers an error rule with the templated error, and hold/delay only on the first response", () => {
    const e = engine([
      {
        match: "login as (\\w+)",
        hold: true,
        delay_ms: 250,
        error: { status: 401, type: "authentication_error", message: "no key for {{match.1}}" },
      },
      { match: "slow", hold: true, delay_ms: 100, reply: [{ tool_use: { name: "t", input: {} } }] },
    ]);
    const err = e.decide(request([userPrompt("login as bee")]), META);
    assert.deepEqual(err.outcome, {
      type: "error",
      error: {
        status: 401,
        type: "authentication_error",
        message: "no key for bee",
        retry: false,
      },
    });
    assert.deepEqual(
      [err.entry.kind, err.entry.rule, err.hold, err.delayMs],
      ["error", 0, true, 250],
    );

    const slow = e.decide(request([userPrompt("slow")]), META);
    assert.deepEqual([slow.hold, slow.delayMs], [true, 100]);
    const cont = e.decide(request([toolResult("toolu_1", "ok")]), META);
    assert.deepEqual([cont.entry.kind, cont.hold, cont.delayMs], ["continue", false, 0]);
  });

  it("keeps turn rules away from compaction requests, and compaction away from pending calls", () => {
    const e = engine([
      { match: "", reply: [{ tool_use: { name: "mcp__hyperhive__send", input: {} } }] },
      { match: "summary", on: "compact", reply: [{ text: "scripted summary" }] },
    ]);
    const first = e.decide(request([userPrompt("from: operator\n\nhi")]), META);
    assert.equal(first.entry.kind, "reply");
    // claude appends its summary prompt to the newest user message, here the tool_result.
    const compact = e.decide(
      request([
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "sent" },
            { type: "text", text: COMPACT_PROMPT },
          ],
        },
      ]),
      META,
    );
    assert.deepEqual(
      [compact.entry.compact, compact.entry.kind, compact.entry.rule],
      [true, "reply", 1],
    );
    assert.deepEqual(blocks(compact), [{ type: "text", text: "scripted summary" }]);
    // The call is still pending: its real result continues the rule.
    assert.equal(e.decide(request([toolResult("toolu_1", "sent")]), META).entry.kind, "continue");
  });

  it("answers an unmatched compaction request with a summary", () => {
    const d = engine([{ match: "never", reply: [{ text: "x" }] }]).decide(
      request([userPrompt(`from: operator\n\nhi\n\n${COMPACT_PROMPT}`)]),
      META,
    );
    assert.deepEqual(blocks(d), [{ type: "text", text: COMPACT_SUMMARY_TEXT }]);
    assert.deepEqual([d.entry.compact, d.entry.kind], [true, "fallback"]);
  });

  it("load() resets the counters and forgets pending calls", () => {
    const script = parseScript([{ times: 1, reply: [{ tool_use: { name: "t", input: {} } }] }]);
    const e = new ScriptEngine({ rules: script, ids: countingIds() });
    assert.equal(e.decide(request([userPrompt("a")]), META).entry.kind, "reply");
    assert.equal(e.decide(request([userPrompt("b")]), META).entry.kind, "fallback");
    e.load(script);
    assert.equal(e.ruleCount, 1);
    assert.equal(e.pendingToolCalls, 0);
    assert.equal(e.decide(request([toolResult("toolu_1", "ok")]), META).entry.kind, "reply");
  });

  it("remembers at most MAX_PENDING_TOOL_CALLS calls, dropping the oldest", () => {
    const e = engine([{ reply: [{ tool_use: { name: "t", input: {} } }, { text: "after" }] }]);
    for (let i = 0; i <= MAX_PENDING_TOOL_CALLS; i++) e.decide(request([userPrompt("go")]), META);
    assert.equal(e.pendingToolCalls, MAX_PENDING_TOOL_CALLS);
    assert.equal(e.decide(request([toolResult("toolu_2", "ok")]), META).entry.kind, "continue");
    // toolu_1 was dropped: its result is just another request.
    assert.equal(e.decide(request([toolResult("toolu_1", "ok")]), META).entry.kind, "reply");
  });

  it("reads claude's request shape: string content, system messages, billing header, stream:false", () => {
    const e = engine([{ match: "^plain$", reply: [{ text: "{{text}}" }] }]);
    const body = {
      ...messagesBody(
        [{ role: "user", content: "<system-reminder>r</system-reminder>plain" }],
        false,
      ),
      system: [
        { type: "text", text: "x-anthropic-billing-header: cc_version=2" },
        { type: "text", text: "You are claude." },
        { type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } },
      ],
      thinking: { type: "adaptive" },
    };
    body.messages.push({ role: "system", content: [{ type: "text", text: "<total_tokens>" }] });
    const d = e.decide(MessagesRequest.parse(body), META);
    assert.deepEqual(blocks(d), [{ type: "text", text: "plain" }]);
    assert.equal(d.entry.system, "You are claude.\n\nBe brief.");
    assert.equal(d.entry.stream, false);
    assert.ok(d.outcome.type === "message" && !d.outcome.stream);
  });

  it("with no rules answers everything with the fallback", () => {
    const d = new ScriptEngine().decide(request([userPrompt("hi")]), META);
    assert.deepEqual([d.entry.kind, d.entry.rule], ["fallback", null]);
    assert.match(d.outcome.type === "message" ? d.outcome.answer.id : "", /^msg_[0-9a-f]{24}$/);
  });
});
