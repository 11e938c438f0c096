import assert from "node:assert/strict";
import {
  bodyBytes,
  ErrorCode,
  HiveError,
  MAX_BODY_BYTES,
  rpcs,
  type SendRequest,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ApiError, api } from "../src/wire.js";
import { agentInfo, stored } from "./fixtures.js";
import { auth, call, type Harness, harnessScope, startHarness } from "./helpers.js";

/** The error body of a reply, checked against the wire's schema (strict: nothing else in it). */
function apiError(json: unknown): ApiError["error"] {
  return ApiError.parse(json).error;
}

describe("JSON API through real NATS", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });

  it("GET /api/agents asks hive.op.agents", async () => {
    let asked = 0;
    await t.keep(
      serve(t.h.nc, subjects.op.agents, rpcs.opAgents, () => {
        asked++;
        return { agents: [agentInfo("manager"), agentInfo("alice", { state: "thinking" })] };
      }),
    );
    const r = await call(t.h.app, "GET", "/api/agents");
    assert.equal(r.status, 200);
    assert.match(String(r.headers["content-type"]), /application\/json/);
    const { agents } = api.agents.reply.parse(r.json());
    assert.deepEqual(
      agents.map((a) => [a.name, a.state]),
      [
        ["manager", "idle"],
        ["alice", "thinking"],
      ],
    );
    assert.equal(asked, 1);
  });

  it("maps nobody answering to 503 unavailable", async () => {
    const r = await call(t.h.app, "GET", "/api/agents");
    assert.equal(r.status, 503);
    const e = apiError(r.json());
    assert.equal(e.code, ErrorCode.Unavailable);
    assert.equal(e.retryable, true);
  });

  it("maps a responder that never answers to 504 timeout", async () => {
    const sub = t.h.nc.subscribe(subjects.op.agents); // takes the request, never replies
    await t.h.nc.flush();
    const r = await call(t.h.app, "GET", "/api/agents");
    sub.unsubscribe();
    assert.equal(r.status, 504);
    assert.equal(apiError(r.json()).code, ErrorCode.Timeout);
  });

  it("maps a reply that breaks its schema to 500 without echoing it", async () => {
    const sub = t.h.nc.subscribe(subjects.op.agents, {
      callback: (_e, m) => {
        m.respond(JSON.stringify({ agents: [{ name: "BAD NAME" }] }));
      },
    });
    await t.h.nc.flush();
    const r = await call(t.h.app, "GET", "/api/agents");
    sub.unsubscribe();
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), {
      error: { code: "internal", message: "internal error", retryable: true },
    });
  });

  it("GET /api/inbox passes a validated query to hive.op.inbox", async () => {
    const seen: unknown[] = [];
    await t.keep(
      serve(t.h.nc, subjects.op.inbox, rpcs.opInbox, (req) => {
        seen.push(req);
        return { messages: [stored(7, "alice", "newest"), stored(3, "bob", "older")] };
      }),
    );
    const r = await call(t.h.app, "GET", "/api/inbox?limit=20&before_id=9");
    assert.equal(r.status, 200);
    assert.deepEqual(
      api.inbox.reply.parse(r.json()).messages.map((m) => m.id),
      [7, 3],
    );
    assert.deepEqual(seen, [{ limit: 20, before_id: 9 }]);

    const bad = await call(t.h.app, "GET", "/api/inbox?limit=lots");
    assert.equal(bad.status, 400);
    const e = apiError(bad.json());
    assert.equal(e.code, ErrorCode.BadRequest);
    assert.match(e.message, /^querystring\.limit: /);
    assert.doesNotMatch(e.message, /\n/, "one line");

    const unknown = await call(t.h.app, "GET", "/api/inbox?limit=5&colour=blue");
    assert.equal(unknown.status, 400, "an unknown query parameter is refused");
    assert.match(apiError(unknown.json()).message, /colour/);
    assert.equal(seen.length, 1, "an invalid query never reaches NATS");
  });

  it("POST /api/send sends as the operator with a fresh client_id per submit", async () => {
    const got: SendRequest[] = [];
    await t.keep(
      serve(t.h.nc, subjects.op.send, rpcs.send, (req) => {
        got.push(req);
        return { id: got.length, duplicate: false, sent_at: Date.now() };
      }),
    );
    const a = await call(t.h.app, "POST", "/api/send", { body: { to: "alice", body: "hello" } });
    const b = await call(t.h.app, "POST", "/api/send", { body: { to: "alice", body: "hello" } });
    assert.equal(a.status, 200);
    assert.equal(api.send.reply.parse(a.json()).id, 1);
    assert.equal(api.send.reply.parse(b.json()).id, 2);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.to, "alice");
    assert.equal(got[0]!.body, "hello");
    assert.ok(got[0]!.client_id && got[1]!.client_id);
    assert.notEqual(got[0]!.client_id, got[1]!.client_id);

    const c = await call(t.h.app, "POST", "/api/send", {
      body: { to: "bob", body: "x", client_id: "form-42" },
    });
    assert.equal(c.status, 200);
    assert.equal(got[2]!.client_id, "form-42", "a client-chosen id is kept for idempotence");
  });

  it("refuses invalid sends with a one-line 400 before they reach NATS", async () => {
    let calls = 0;
    await t.keep(
      serve(t.h.nc, subjects.op.send, rpcs.send, () => {
        calls++;
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
    );
    const cases: Array<[unknown, RegExp]> = [
      [{ to: "Not A Name!", body: "hi" }, /^body\.to: /],
      [{ to: "alice", body: "" }, /^body\.body: /],
      [{ to: "operator", body: "to myself" }, /^body\.to: /],
      [{ body: "no recipient" }, /^body\.to: /],
      [{ to: "alice", body: "hi", from: "manager" }, /from/],
      [["alice", "hi"], /^body: /],
    ];
    for (const [body, message] of cases) {
      const r = await call(t.h.app, "POST", "/api/send", { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      const e = apiError(r.json());
      assert.equal(e.code, ErrorCode.BadRequest);
      assert.match(e.message, message, JSON.stringify(body));
      assert.doesNotMatch(e.message, /\n/);
    }
    const notJson = await call(t.h.app, "POST", "/api/send", {
      headers: { ...auth, "content-type": "application/json" },
      raw: "{nope",
    });
    assert.equal(notJson.status, 400);
    assert.equal(apiError(notJson.json()).code, "bad_request");
    const noType = await call(t.h.app, "POST", "/api/send", {
      headers: { ...auth, "content-type": "text/plain" },
      raw: "hi",
    });
    assert.equal(
      noType.status,
      400,
      "a body that is not JSON is a bad request (the catalog's 400)",
    );
    assert.equal(apiError(noType.json()).code, "bad_request");
    assert.equal(calls, 0);
  });

  it("maps the broker's body_too_large to 413 and not_found to 404", async () => {
    await t.keep(
      serve(t.h.nc, subjects.op.send, rpcs.send, (req) => {
        if (bodyBytes(req.body) > MAX_BODY_BYTES) {
          throw new HiveError(ErrorCode.BodyTooLarge, "body is over 4096 bytes: write a file");
        }
        if (req.to === "ghost") throw new HiveError(ErrorCode.NotFound, "no agent ghost");
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
    );
    const big = await call(t.h.app, "POST", "/api/send", {
      body: { to: "alice", body: "x".repeat(5000) },
    });
    assert.equal(big.status, 413);
    assert.deepEqual(big.json(), {
      error: {
        code: "body_too_large",
        message: "body is over 4096 bytes: write a file",
        retryable: false,
      },
    });
    const ghost = await call(t.h.app, "POST", "/api/send", { body: { to: "ghost", body: "boo" } });
    assert.equal(ghost.status, 404);
    assert.equal(apiError(ghost.json()).code, "not_found");
  });

  it("answers unknown API paths with a JSON 404 and bad agent names with 400", async () => {
    const r = await call(t.h.app, "GET", "/api/nope");
    assert.equal(r.status, 404);
    assert.equal(apiError(r.json()).code, "not_found");
    const bad = await call(t.h.app, "GET", "/api/agents/NOT_OK/live");
    assert.equal(bad.status, 400);
    assert.match(apiError(bad.json()).message, /^params\.name: /);
  });
});

describe("pages", () => {
  let h: Harness;
  let registry: Service | undefined;
  beforeAll(async () => {
    h = await startHarness({ requestTimeoutMs: 300 });
  });
  afterAll(async () => {
    await registry?.stop();
    await h.stop();
  });

  it("serves /agents/<name> only for an agent in the registry", async () => {
    const noRegistry = await call(h.app, "GET", "/agents/alice");
    assert.equal(noRegistry.status, 503, "c0re down: say so instead of a page that waits");
    assert.match(String(noRegistry.headers["content-type"]), /text\/html/);
    assert.doesNotMatch(noRegistry.text, /<script/);

    registry = serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("manager"), agentInfo("alice")],
    }));
    await h.nc.flush();
    const page = await call(h.app, "GET", "/agents/alice");
    assert.equal(page.status, 200);
    assert.match(page.text, /data-page="agent" data-agent="alice"/);
    assert.match(page.text, /<title>hyperhive · alice<\/title>/);

    const ghost = await call(h.app, "GET", "/agents/ghost");
    assert.equal(ghost.status, 404);
    assert.match(String(ghost.headers["content-type"]), /text\/html/);
    assert.match(ghost.text, /no agent named ghost/);
    assert.doesNotMatch(ghost.text, /<script/, "an error page runs nothing");

    const bad = await call(h.app, "GET", "/agents/NOT_OK");
    assert.equal(bad.status, 400);
    assert.match(String(bad.headers["content-type"]), /text\/html/);
    assert.match(bad.text, /params\.name: /);
  });

  it("answers unknown pages and assets with an HTML 404", async () => {
    for (const path of ["/nope", "/assets/nope.js", "/assets/../package.json", "/assets/"]) {
      const r = await call(h.app, "GET", path);
      assert.equal(r.status, 404, path);
      assert.match(String(r.headers["content-type"]), /text\/html/, path);
      assert.match(r.text, /no such page/, path);
    }
  });
});
