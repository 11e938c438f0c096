/** The HTTP routes through `app.inject()`: the Messages API, its errors, and the control API. */
import assert from "node:assert/strict";
import { createLogger } from "@hyperhive/shared";
import { TestClock, waitUntil, withTimeout } from "@hyperhive/shared/testing";
import { afterEach, describe, it } from "vitest";
import {
  buildApp,
  DEFAULT_SCRIPT,
  HoldGate,
  parseScript,
  RequestLog,
  ScriptEngine,
  type ZodApp,
} from "../src/mod.js";
import { messagesBody, parseSse, toolResult, userPrompt } from "./helpers.js";

interface Harness {
  app: ZodApp;
  requests: RequestLog;
  holds: HoldGate;
  clock: TestClock;
}

const apps: ZodApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function harness(script: unknown = DEFAULT_SCRIPT, maxBodyBytes?: number): Harness {
  const requests = new RequestLog();
  const holds = new HoldGate();
  const clock = new TestClock();
  const app = buildApp({
    engine: new ScriptEngine({ rules: parseScript(script) }),
    requests,
    holds,
    log: createLogger("model-server-test", { level: "silent" }),
    clock,
    maxBodyBytes,
  });
  apps.push(app);
  return { app, requests, holds, clock };
}

function post(app: ZodApp, messages: unknown[], stream = true) {
  return app.inject({
    method: "POST",
    url: "/v1/messages?beta=true",
    payload: messagesBody(messages, stream),
  });
}

function sseText(body: string): string {
  return parseSse(body)
    .filter((e) => e.event === "content_block_delta")
    .map((e) => {
      const d = e.data.delta as { text?: string; partial_json?: string };
      return d.text ?? d.partial_json ?? "";
    })
    .join("");
}

describe("POST /v1/messages", () => {
  it("streams a tool_use as SSE, then ends the turn on its tool_result", async () => {
    const { app, requests } = harness();
    const prompt = userPrompt("from: operator\nid: 12\n\nhello hive\nmore text");
    const res = await post(app, [prompt]);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    assert.match(String(res.headers["request-id"]), /^req_msg_/);
    const events = parseSse(res.body);
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
    assert.deepEqual([block.type, block.name], ["tool_use", "mcp__hyperhive__send"]);
    assert.deepEqual(JSON.parse(sseText(res.body)), { to: "operator", body: "pong: hello hive" });
    const delta = events[5]!.data as {
      delta: { stop_reason: string };
      usage: { output_tokens: number; cache_read_input_tokens: number };
    };
    assert.equal(delta.delta.stop_reason, "tool_use");
    assert.ok(delta.usage.output_tokens > 0 && delta.usage.cache_read_input_tokens > 0);

    const followUp = await post(app, [
      prompt,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: block.id, name: block.name, input: {} }],
      },
      { role: "system", content: [{ type: "text", text: "<total_tokens>1 left</total_tokens>" }] },
      toolResult(block.id, "sent"),
    ]);
    assert.equal(sseText(followUp.body), "Replied to the operator.");
    const ev2 = parseSse(followUp.body);
    assert.equal((ev2.at(-2)!.data.delta as { stop_reason: string }).stop_reason, "end_turn");
    assert.deepEqual(
      requests.list().map((e) => [e.path, e.kind, e.rule]),
      [
        ["/v1/messages", "reply", 0],
        ["/v1/messages", "continue", 0],
      ],
    );
  });

  it("answers stream:false with one JSON message", async () => {
    const { app } = harness();
    const res = await post(app, [userPrompt("from: operator\n\nping")], false);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    const msg = res.json<{
      type: string;
      role: string;
      stop_reason: string;
      content: { type: string; input?: unknown }[];
      usage: { input_tokens: number; output_tokens: number };
    }>();
    assert.deepEqual([msg.type, msg.role, msg.stop_reason], ["message", "assistant", "tool_use"]);
    assert.deepEqual(msg.content[0]!.input, { to: "operator", body: "pong: ping" });
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
  });

  it("answers an error rule with its status, the Anthropic body and x-should-retry: false", async () => {
    const { app, requests } = harness([
      {
        match: "login",
        error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
      },
      {
        match: "busy",
        error: { status: 529, type: "overloaded_error", message: "o", retry: true },
      },
    ]);
    const r401 = await post(app, [userPrompt("please login")]);
    assert.equal(r401.statusCode, 401);
    assert.equal(r401.headers["x-should-retry"], "false");
    assert.match(String(r401.headers["request-id"]), /^req_/);
    assert.deepEqual(r401.json(), {
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
    const r529 = await post(app, [userPrompt("busy")]);
    assert.equal(r529.statusCode, 529);
    assert.equal(r529.headers["x-should-retry"], undefined, "retry: true lets claude retry");
    assert.deepEqual(
      requests.list().map((e) => [e.kind, e.rule]),
      [
        ["error", 0],
        ["error", 1],
      ],
    );
  });

  it("refuses malformed requests with a one-line 400 and records nothing", async () => {
    const { app, requests } = harness();
    const cases: [string, RegExp][] = [
      ["{not json", /body is not JSON/],
      ["", /expected object/],
      [JSON.stringify({ model: "m", stream: true }), /^bad request body: messages: /],
      [JSON.stringify({ model: "m", messages: [{ role: "user", content: 7 }] }), /content/],
    ];
    for (const [payload, why] of cases) {
      const res = await app.inject({
        method: "POST",
        url: "/v1/messages",
        headers: { "content-type": "application/json" },
        payload,
      });
      assert.equal(res.statusCode, 400, payload);
      assert.equal(res.headers["x-should-retry"], "false");
      const e = res.json<{ type: string; error: { type: string; message: string } }>();
      assert.deepEqual([e.type, e.error.type], ["error", "invalid_request_error"]);
      assert.match(e.error.message, why);
      assert.doesNotMatch(e.error.message, /\n/, "one line, not a dump of zod issues");
    }
    assert.deepEqual(requests.list(), []);
  });

  it("refuses a body over maxBodyBytes with 413 request_too_large", async () => {
    const { app, requests } = harness(DEFAULT_SCRIPT, 1024);
    const big = await post(app, [userPrompt("x".repeat(4096))]);
    assert.equal(big.statusCode, 413);
    const e = big.json<{ type: string; error: { type: string; message: string } }>();
    assert.equal(e.error.type, "request_too_large");
    assert.match(e.error.message, /^request body is \d+ bytes, over the limit of 1024 bytes$/);
    const ok = await post(app, [userPrompt("hi")]);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(
      requests.list().map((r) => r.text),
      ["hi"],
    );
  });

  it("answers unknown endpoints with an Anthropic 404", async () => {
    const { app } = harness();
    for (const [method, url] of [
      ["GET", "/v1/messages"],
      ["POST", "/v1/complete?x=1"],
    ] as const) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404);
      const path = url.split("?")[0];
      assert.deepEqual(res.json(), {
        type: "error",
        error: { type: "not_found_error", message: `no such endpoint: ${method} ${path}` },
      });
    }
  });

  it("answers count_tokens with an estimate and logs it as other", async () => {
    const { app, requests } = harness();
    const res = await app.inject({
      method: "POST",
      url: "/v1/messages/count_tokens",
      payload: messagesBody([userPrompt("x".repeat(400))]),
    });
    assert.ok(res.json<{ input_tokens: number }>().input_tokens > 100);
    assert.deepEqual(
      requests.list().map((e) => [e.path, e.kind]),
      [["/v1/messages/count_tokens", "other"]],
    );
  });
});

describe("hold and delay", () => {
  it("holds an answer until POST /_release; the request is logged at once", async () => {
    const { app, requests, holds } = harness([
      { match: "slow", hold: true, reply: [{ text: "released" }] },
    ]);
    let settled = false;
    const pending = post(app, [userPrompt("slow one")]).then((r) => {
      settled = true;
      return r;
    });
    await waitUntil(() => holds.size === 1, { what: "the answer to be held" });
    assert.deepEqual(
      requests.list().map((e) => e.text),
      ["slow one"],
    );
    const health = await app.inject({ method: "GET", url: "/_health" });
    assert.deepEqual(health.json(), { ok: true, rules: 1, held: 1 });
    assert.equal(settled, false);
    const rel = await app.inject({ method: "POST", url: "/_release" });
    assert.deepEqual(rel.json(), { released: 1 });
    const res = await withTimeout(pending, 5000, "released answer");
    assert.equal(sseText(res.body), "released");
    assert.equal(holds.size, 0);
  });

  it("waits delay_ms (after a hold) before answering", async () => {
    const { app, holds, clock } = harness([
      { match: "", hold: true, delay_ms: 300, reply: [{ text: "late" }] },
    ]);
    let settled = false;
    const pending = post(app, [userPrompt("x")]).then((r) => {
      settled = true;
      return r;
    });
    await waitUntil(() => holds.size === 1, { what: "the answer to be held" });
    assert.equal(clock.pending, 0, "the delay starts after the release");
    holds.release();
    await waitUntil(() => clock.pending === 1, { what: "the delay to start" });
    assert.equal(clock.nextIn, 300);
    await clock.advance(299);
    assert.equal(settled, false);
    await clock.advance(1);
    const res = await withTimeout(pending, 5000, "delayed answer");
    assert.equal(sseText(res.body), "late");
  });
});

describe("control API", () => {
  it("PUT /_script takes a script sent as text/plain (as fetch sends a string) and resets counters", async () => {
    const { app } = harness();
    const script = { rules: [{ match: "x", times: 1, reply: [{ text: "once" }] }] };
    const put = () =>
      app.inject({
        method: "PUT",
        url: "/_script",
        headers: { "content-type": "text/plain;charset=UTF-8" },
        payload: JSON.stringify(script),
      });
    assert.deepEqual((await put()).json(), { ok: true, rules: 1 });
    assert.equal(sseText((await post(app, [userPrompt("x")])).body), "once");
    assert.equal(sseText((await post(app, [userPrompt("x")])).body), "OK.");
    await put();
    assert.equal(sseText((await post(app, [userPrompt("x")])).body), "once");
  });

  it("refuses a bad script with 400 bad_request and keeps the old one", async () => {
    const { app, requests } = harness();
    const bad: [unknown, RegExp][] = [
      [
        [{ match: "(", reply: [{ text: "x" }] }],
        /^rules\.0\.match: not a valid JavaScript regular/,
      ],
      [[{ match: "x" }], /exactly one of `reply` or `error`/],
      [
        [{ match: "x", reply: [{ text: "a" }], error: { status: 401, type: "t", message: "m" } }],
        /exactly one/,
      ],
      [[{ match: "x", reply: [{ tool_use: { input: {} } }] }], /rules\.0\.reply\.0/],
      [[{ match: "x", flags: "g", reply: [{ text: "a" }] }], /flags/],
      [[{ match: "x", typo: 1, reply: [{ text: "a" }] }], /typo/],
      [{ nope: true }, /rules: .*nope/],
    ];
    for (const [script, why] of bad) {
      const res = await app.inject({
        method: "PUT",
        url: "/_script",
        payload: JSON.stringify(script),
      });
      assert.equal(res.statusCode, 400, JSON.stringify(script));
      const { error } = res.json<{
        error: { code: string; message: string; retryable: boolean };
      }>();
      assert.deepEqual([error.code, error.retryable], ["bad_request", false]);
      assert.match(error.message, why);
    }
    const notJson = await app.inject({ method: "PUT", url: "/_script", payload: "{" });
    assert.equal(notJson.statusCode, 400);
    assert.match(notJson.json<{ error: { message: string } }>().error.message, /not JSON/);
    await post(app, [userPrompt("from: operator\n\nstill default")]);
    assert.deepEqual(requests.list().at(-1)!.tool_uses, [
      { name: "mcp__hyperhive__send", input: { to: "operator", body: "pong: still default" } },
    ]);
  });

  it("serves, clears and guards the request log", async () => {
    const { app } = harness();
    await post(app, [userPrompt("log me")]);
    const log = (await app.inject({ method: "GET", url: "/_requests" })).json<
      { text: string; model: string; system: string }[]
    >();
    assert.deepEqual(
      log.map((e) => [e.text, e.model, e.system]),
      [["log me", "claude-haiku-test", "You are a test."]],
    );
    const withBody = await app.inject({ method: "DELETE", url: "/_requests", payload: { all: 1 } });
    assert.equal(withBody.statusCode, 400, "a request that takes no body refuses one");
    const del = await app.inject({ method: "DELETE", url: "/_requests" });
    assert.deepEqual(del.json(), { ok: true });
    assert.deepEqual((await app.inject({ method: "GET", url: "/_requests" })).json(), []);
  });

  it("POST /_release with nothing held frees nothing", async () => {
    const { app } = harness();
    assert.deepEqual((await app.inject({ method: "POST", url: "/_release" })).json(), {
      released: 0,
    });
  });
});
