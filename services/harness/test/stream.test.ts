import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClaudeStreamEvent } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { z } from "zod";
import { parseStreamLine, resultKind, StatsAccumulator } from "../src/stream.js";
import { REPO } from "./procs.js";

/** Stream-json captured from the real claude CLI (see capture.ts). */
function fixture(name: string): ClaudeStreamEvent[] {
  const text = readFileSync(join(REPO, "services/harness/test/fixtures", `${name}.jsonl`), "utf8");
  return text
    .split("\n")
    .map(parseStreamLine)
    .filter((e): e is ClaudeStreamEvent => e !== null);
}

function fold(events: ClaudeStreamEvent[]): StatsAccumulator {
  const acc = new StatsAccumulator();
  for (const e of events) acc.feed(e);
  return acc;
}

describe("parseStreamLine", () => {
  it("parses a JSON object with a type and ignores everything else", () => {
    assert.deepEqual(parseStreamLine('{"type":"system","subtype":"init"}'), {
      type: "system",
      subtype: "init",
    });
    assert.equal(parseStreamLine(""), null);
    assert.equal(parseStreamLine("   "), null);
    assert.equal(parseStreamLine("not json"), null);
    assert.equal(parseStreamLine('{"no":"type"}'), null);
    assert.equal(parseStreamLine("[1,2]"), null);
  });
});

describe("StatsAccumulator on real claude output", () => {
  it("a turn that sends to the operator: one tool call, usage and context window", () => {
    const events = fixture("send-to-operator");
    assert.ok(events.length >= 4);
    const result = events.find((e) => e.type === "result")!;
    const usage = z.record(z.string(), z.unknown()).parse(result.usage);
    const acc = fold(events);
    assert.equal(acc.outcome(0), "ok");
    assert.equal(acc.toolCalls, 1);
    assert.deepEqual(acc.breakdown, { mcp__hyperhive__send: 1 });
    assert.equal(acc.sessionId, result.session_id);
    const r = acc.result!;
    assert.equal(r.isError, false);
    assert.equal(r.numTurns, result.num_turns);
    assert.equal(r.durationMs, result.duration_ms);
    assert.equal(r.totalCostUsd, result.total_cost_usd);
    assert.equal(r.inputTokens, usage.input_tokens);
    assert.equal(r.outputTokens, usage.output_tokens);
    assert.equal(r.cacheReadInputTokens, usage.cache_read_input_tokens);
    assert.equal(r.cacheCreationInputTokens, usage.cache_creation_input_tokens);
    assert.ok(r.inputTokens > 0 && r.outputTokens > 0);
    assert.equal(r.contextWindow, 200_000);
    assert.equal(r.text, "Replied to the operator.");
  });

  it("a 401 is needs_login (assistant error authentication_failed, result is_error)", () => {
    const events = fixture("not-logged-in");
    const acc = fold(events);
    assert.equal(acc.authFailed, true);
    assert.equal(acc.result?.isError, true);
    assert.equal(acc.outcome(1), "needs_login");
    assert.equal(acc.toolCalls, 0);
    assert.equal(resultKind(acc.outcome(1), false), "needs_login");
  });

  it("'Prompt is too long' is recognised; the compaction and the retry that follow are ok", () => {
    const events = fixture("prompt-too-long-then-compact");
    // The fixture holds three runs: the failing turn, `/compact`, the retried turn.
    const runs: ClaudeStreamEvent[][] = [[]];
    for (const e of events) {
      runs.at(-1)!.push(e);
      if (e.type === "result") runs.push([]);
    }
    assert.equal(runs.filter((r) => r.length > 0).length, 3);
    const first = fold(runs[0]!);
    assert.equal(first.outcome(1), "prompt_too_long");
    assert.match(first.result!.text, /prompt is too long/i);
    assert.equal(fold(runs[1]!).outcome(0), "ok");
    const retry = fold(runs[2]!);
    assert.equal(retry.outcome(0), "ok");
    assert.equal(resultKind(retry.outcome(0), true), "compacted_retry");
  });

  it("a run without a result event crashed; not-logged-in text without one is still needs_login", () => {
    assert.equal(new StatsAccumulator().outcome(1), "crashed");
    const acc = new StatsAccumulator();
    acc.feed({
      type: "assistant",
      error: "authentication_failed",
      message: { content: [{ type: "text", text: "Not logged in · Please run /login" }] },
    });
    assert.equal(acc.outcome(1), "needs_login");
  });

  it("terminal_reason prompt_too_long is recognised whatever the text", () => {
    const acc = new StatsAccumulator();
    acc.feed({ type: "result", is_error: true, terminal_reason: "prompt_too_long", result: "x" });
    assert.equal(acc.outcome(1), "prompt_too_long");
  });

  it("the Not-logged-in result text alone is needs_login", () => {
    const acc = new StatsAccumulator();
    acc.feed({ type: "result", is_error: true, result: "Not logged in · Please run /login" });
    assert.equal(acc.outcome(1), "needs_login");
  });

  it("counts each tool_use block once even when claude repeats a message, with a breakdown", () => {
    const acc = new StatsAccumulator();
    const block = (id: string, name: string) => ({ type: "tool_use", id, name, input: {} });
    acc.feed({ type: "assistant", message: { content: [block("a", "Read"), block("b", "Read")] } });
    acc.feed({ type: "assistant", message: { content: [block("b", "Read")] } });
    acc.feed({ type: "assistant", message: { content: [block("c", "mcp__hyperhive__send")] } });
    acc.feed({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "a" }] } });
    assert.equal(acc.toolCalls, 3);
    assert.deepEqual(acc.breakdown, { Read: 2, mcp__hyperhive__send: 1 });
  });

  it("an error result that is neither login nor length is an error; exit code counts", () => {
    const acc = new StatsAccumulator();
    acc.feed({ type: "result", is_error: true, result: "API Error: 500 overloaded" });
    assert.equal(acc.outcome(1), "error");
    const ok = new StatsAccumulator();
    ok.feed({ type: "result", is_error: false, result: "fine" });
    assert.equal(ok.outcome(0), "ok");
    assert.equal(ok.outcome(1), "error");
  });
});
