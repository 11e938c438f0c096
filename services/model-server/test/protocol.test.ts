import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { spawnService } from "@hyperhive/shared";
import { waitUntil, withTimeout } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { DEFAULT_SCRIPT, type ModelServer, startModelServer } from "../src/mod.js";
import { parseSse, postMessages, userPrompt } from "./helpers.js";

describe("model server: Messages API protocol", () => {
  let ms: ModelServer;
  beforeAll(async () => {
    ms = await startModelServer({ port: 0 });
  });
  afterAll(async () => {
    await ms.close();
  });
  beforeEach(() => {
    ms.setScript(DEFAULT_SCRIPT);
  });

  it("answers an operator message with a streamed tool_use, then ends the turn on its result", async () => {
    const prompt = userPrompt("from: operator\nid: 12\n\nhello hive\nmore text");
    const res = await postMessages(ms.url, [prompt]);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = parseSse(await res.text());
    assert.deepEqual(
      events.map((e) => e.event),
      [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    const start = events[0]!.data.message as { usage: { input_tokens: number } };
    assert.ok(start.usage.input_tokens > 0);
    const block = events[2]!.data.content_block as { type: string; id: string; name: string };
    assert.equal(block.type, "tool_use");
    assert.equal(block.name, "mcp__hyperhive__send");
    const partial = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { type: string; partial_json: string }).partial_json)
      .join("");
    assert.deepEqual(JSON.parse(partial), { to: "operator", body: "pong: hello hive" });
    const delta = events[5]!.data as {
      delta: { stop_reason: string };
      usage: { output_tokens: number; cache_read_input_tokens: number };
    };
    assert.equal(delta.delta.stop_reason, "tool_use");
    assert.ok(delta.usage.output_tokens > 0);
    assert.ok(delta.usage.cache_read_input_tokens > 0);

    // The follow-up carries the tool_result: the rule's remaining step ends the turn.
    const followUp = await postMessages(ms.url, [
      prompt,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: block.id, name: block.name, input: {} }],
      },
      { role: "system", content: [{ type: "text", text: "<total_tokens>1 left</total_tokens>" }] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: block.id, content: [{ type: "text", text: "sent" }] },
        ],
      },
    ]);
    const ev2 = parseSse(await followUp.text());
    assert.equal((ev2[2]!.data.content_block as { type: string }).type, "text");
    const text = ev2
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    assert.equal(text, "Replied to the operator.");
    assert.equal((ev2[5]!.data.delta as { stop_reason: string }).stop_reason, "end_turn");

    const log = ms.requests();
    assert.equal(log.length >= 2, true);
    const [first, second] = log.slice(-2);
    assert.equal(first!.kind, "reply");
    assert.equal(first!.rule, 0);
    assert.equal(first!.text, "from: operator\nid: 12\n\nhello hive\nmore text");
    assert.equal(second!.kind, "continue");
    assert.deepEqual(second!.tool_result_ids, [block.id]);
  });

  it("answers anything else with a short text and no tool call", async () => {
    const res = await postMessages(ms.url, [userPrompt("You were restarted.")]);
    const events = parseSse(await res.text());
    assert.equal(events.filter((e) => e.event === "content_block_start").length, 1);
    assert.equal((events[2]!.data.content_block as { type: string }).type, "text");
    assert.equal((events.at(-2)!.data.delta as { stop_reason: string }).stop_reason, "end_turn");
    assert.equal(ms.requests().at(-1)!.tool_uses.length, 0);
  });

  it("answers stream:false with one JSON message", async () => {
    const res = await postMessages(ms.url, [userPrompt("from: operator\n\nping")], false);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const msg = (await res.json()) as {
      type: string;
      stop_reason: string;
      content: { type: string; input?: unknown }[];
      usage: { input_tokens: number; output_tokens: number };
    };
    assert.equal(msg.type, "message");
    assert.equal(msg.stop_reason, "tool_use");
    assert.deepEqual(msg.content[0]!.input, { to: "operator", body: "pong: ping" });
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
  });

  it("templates regex groups, honours times, chains text before a tool call", async () => {
    const res = await fetch(`${ms.url}/_script`, {
      method: "PUT",
      body: JSON.stringify({
        rules: [
          {
            match: "task (?<id>\\d+): (\\w+)",
            times: 1,
            usage: { input_tokens: 7 },
            reply: [
              { text: "on it: {{match.2}}" },
              {
                tool_use: { name: "mcp__hyperhive__send", input: { to: "m", n: ["{{match.id}}"] } },
              },
              { text: "finished {{first_line}}" },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const prompt = userPrompt("task 42: build\nsecond line");
    const events = parseSse(await (await postMessages(ms.url, [prompt])).text());
    const starts = events.filter((e) => e.event === "content_block_start");
    assert.deepEqual(
      starts.map((e) => (e.data.content_block as { type: string }).type),
      ["text", "tool_use"],
    );
    assert.equal(
      (events[0]!.data.message as { usage: { input_tokens: number } }).usage.input_tokens,
      7,
    );
    const entry = ms.requests().at(-1)!;
    assert.deepEqual(entry.tool_uses, [
      { name: "mcp__hyperhive__send", input: { to: "m", n: ["42"] } },
    ]);
    const id = (starts[1]!.data.content_block as { id: string }).id;
    const cont = await postMessages(ms.url, [
      prompt,
      { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "ok" }] },
    ]);
    const text = parseSse(await cont.text())
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data.delta as { text: string }).text)
      .join("");
    assert.equal(text, "finished task 42: build");

    // times: 1 is used up: the same prompt now gets the fallback.
    await (await postMessages(ms.url, [prompt])).text();
    assert.equal(ms.requests().at(-1)!.kind, "fallback");
    assert.equal(ms.requests().at(-1)!.rule, null);
  });

  it("holds a response until POST /_release", async () => {
    ms.setScript([{ match: "slow", hold: true, reply: [{ text: "released" }] }]);
    let settled = false;
    const pending = postMessages(ms.url, [userPrompt("slow one")]).then(async (r) => {
      settled = true;
      return r.text();
    });
    await waitUntil(() => ms.requests().some((e) => e.text === "slow one"), {
      what: "the held request to be logged",
    });
    const health = (await (await fetch(`${ms.url}/_health`)).json()) as { held: number };
    assert.equal(health.held, 1);
    assert.equal(settled, false);
    const rel = (await (await fetch(`${ms.url}/_release`, { method: "POST" })).json()) as {
      released: number;
    };
    assert.equal(rel.released, 1);
    const body = await withTimeout(pending, 5000, "released response");
    assert.match(body, /"text":"released"/);
  });

  it("delays a response by delay_ms", async () => {
    ms.setScript([{ match: "", delay_ms: 300, reply: [{ text: "late" }] }]);
    const t0 = Date.now();
    await (await postMessages(ms.url, [userPrompt("x")])).text();
    assert.ok(Date.now() - t0 >= 290, "answered before the delay");
  });

  it("answers an error rule with the API error and x-should-retry: false", async () => {
    ms.setScript([
      {
        match: "login",
        error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
      },
      {
        match: "big",
        error: {
          status: 400,
          type: "invalid_request_error",
          message: "prompt is too long: 250000 tokens > 200000 maximum",
        },
      },
    ]);
    const r401 = await postMessages(ms.url, [userPrompt("please login")]);
    assert.equal(r401.status, 401);
    assert.equal(r401.headers.get("x-should-retry"), "false");
    assert.deepEqual(await r401.json(), {
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
    const r400 = await postMessages(ms.url, [userPrompt("big prompt")]);
    assert.equal(r400.status, 400);
    assert.deepEqual(await r400.json(), {
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "prompt is too long: 250000 tokens > 200000 maximum",
      },
    });
    assert.deepEqual(
      ms
        .requests()
        .slice(-2)
        .map((e) => [e.kind, e.rule]),
      [
        ["error", 0],
        ["error", 1],
      ],
    );
  });

  it("keeps turn rules away from claude's compaction requests", async () => {
    ms.setScript([
      { match: "", reply: [{ tool_use: { name: "mcp__hyperhive__send", input: {} } }] },
    ]);
    const compact = userPrompt(
      "from: operator\n\nhi\n\nCRITICAL: Respond with TEXT ONLY.\n\nYour task is to create a detailed summary of the conversation so far, ...",
    );
    const events = parseSse(await (await postMessages(ms.url, [compact])).text());
    assert.equal((events[2]!.data.content_block as { type: string }).type, "text");
    const entry = ms.requests().at(-1)!;
    assert.equal(entry.compact, true);
    assert.equal(entry.kind, "fallback");
  });

  it("refuses a bad script with 400 and keeps the old one", async () => {
    const bad = [
      [{ match: "(", reply: [{ text: "x" }] }],
      [{ match: "x" }],
      [{ match: "x", reply: [{ text: "a" }], error: { status: 401, type: "t", message: "m" } }],
      [{ match: "x", reply: [{ tool_use: { input: {} } }] }],
      { nope: true },
    ];
    for (const script of bad) {
      const res = await fetch(`${ms.url}/_script`, { method: "PUT", body: JSON.stringify(script) });
      assert.equal(res.status, 400, JSON.stringify(script));
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, "bad_request");
    }
    const notJson = await fetch(`${ms.url}/_script`, { method: "PUT", body: "{" });
    assert.equal(notJson.status, 400);
    const res = await postMessages(ms.url, [userPrompt("from: operator\n\nstill default")]);
    await res.text();
    assert.deepEqual(ms.requests().at(-1)!.tool_uses, [
      { name: "mcp__hyperhive__send", input: { to: "operator", body: "pong: still default" } },
    ]);
  });

  it("refuses malformed Messages requests with a clear 400 and records nothing", async () => {
    const before = ms.requests().length;
    const post = (body: string) =>
      fetch(`${ms.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const cases: [string, RegExp][] = [
      ["{not json", /JSON/],
      [JSON.stringify({ model: "m", stream: true }), /messages/],
      [JSON.stringify({ model: "m", messages: [{ role: "user", content: 7 }] }), /content/],
    ];
    for (const [body, why] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      const e = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(e.type, "error");
      assert.equal(e.error.type, "invalid_request_error");
      assert.match(e.error.message, why);
      assert.doesNotMatch(e.error.message, /\n/, "one line, not a dump of zod issues");
    }
    assert.equal(ms.requests().length, before);
  });

  it("refuses a body over the size limit with 413 without keeping it", async () => {
    const small = await startModelServer({ port: 0, maxBodyBytes: 1024 });
    try {
      const big = await postMessages(small.url, [userPrompt("x".repeat(4096))]);
      assert.equal(big.status, 413);
      const e = (await big.json()) as { error: { type: string; message: string } };
      assert.equal(e.error.type, "request_too_large");
      assert.match(e.error.message, /1024/);
      const ok = await postMessages(small.url, [userPrompt("hi")]);
      assert.equal(ok.status, 200);
      await ok.text();
      assert.deepEqual(
        small.requests().map((r) => r.text),
        ["hi"],
      );
    } finally {
      await small.close();
    }
  });

  it("serves the request log over GET /_requests", async () => {
    await (await postMessages(ms.url, [userPrompt("log me")])).text();
    const log = (await (await fetch(`${ms.url}/_requests`)).json()) as {
      text: string;
      model: string;
    }[];
    assert.equal(log.at(-1)!.text, "log me");
    assert.equal(log.at(-1)!.model, "claude-haiku-test");
  });
});

describe("model server: CLI entry point", () => {
  it("prints the ready line, serves, and exits 0 on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));
    const p = spawnService({
      command: process.execPath,
      args: [main, "--port", "0"],
      echoStderr: true,
      readyTimeoutMs: 10_000,
    });
    const { child } = p;
    try {
      const ready = (await withTimeout(p.ready, 10_000, "ready line")) as {
        ready: string;
        url: string;
      };
      assert.equal(ready.ready, "model-server");
      assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${ready.url}/_health`);
      assert.equal(health.status, 200);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await withTimeout(exited, 10_000, "exit")) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
