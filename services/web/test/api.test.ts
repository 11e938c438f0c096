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
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { agentInfo, auth, type Harness, startHarness, stored } from "./helpers.js";

async function call(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(h.url + path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

describe("JSON API through real NATS", () => {
  let h: Harness;
  let services: Service[] = [];
  beforeAll(async () => {
    h = await startHarness({ requestTimeoutMs: 300 });
  });
  afterEach(async () => {
    await Promise.all(services.map((s) => s.stop()));
    services = [];
  });
  afterAll(async () => {
    await h.stop();
  });

  const start = async (...s: Service[]) => {
    services.push(...s);
    await h.nc.flush();
  };

  it("GET /api/agents asks hive.op.agents", async () => {
    let asked = 0;
    await start(
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => {
        asked++;
        return { agents: [agentInfo("manager"), agentInfo("alice", { state: "thinking" })] };
      }),
    );
    const r = await call(h, "GET", "/api/agents");
    assert.equal(r.status, 200);
    const agents = (r.json as { agents: Array<{ name: string; state: string }> }).agents;
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
    const r = await call(h, "GET", "/api/agents");
    assert.equal(r.status, 503);
    assert.equal((r.json as { error: { code: string } }).error.code, ErrorCode.Unavailable);
    assert.equal((r.json as { error: { retryable: boolean } }).error.retryable, true);
  });

  it("maps a responder that never answers to 504 timeout", async () => {
    const sub = h.nc.subscribe(subjects.op.agents); // takes the request, never replies
    await h.nc.flush();
    const r = await call(h, "GET", "/api/agents");
    sub.unsubscribe();
    assert.equal(r.status, 504);
    assert.equal((r.json as { error: { code: string } }).error.code, ErrorCode.Timeout);
  });

  it("maps a reply that breaks its schema to 500 without echoing it", async () => {
    const sub = h.nc.subscribe(subjects.op.agents, {
      callback: (_e, m) => {
        m.respond(JSON.stringify({ agents: [{ name: "BAD NAME" }] }));
      },
    });
    await h.nc.flush();
    const r = await call(h, "GET", "/api/agents");
    sub.unsubscribe();
    assert.equal(r.status, 500);
    assert.deepEqual(r.json, {
      error: { code: "internal", message: "internal error", retryable: true },
    });
  });

  it("GET /api/inbox passes a validated query to hive.op.inbox", async () => {
    const seen: unknown[] = [];
    await start(
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, (req) => {
        seen.push(req);
        return { messages: [stored(7, "alice", "newest"), stored(3, "bob", "older")] };
      }),
    );
    const r = await call(h, "GET", "/api/inbox?limit=20&before_id=9");
    assert.equal(r.status, 200);
    assert.deepEqual(
      (r.json as { messages: Array<{ id: number }> }).messages.map((m) => m.id),
      [7, 3],
    );
    assert.deepEqual(seen, [{ limit: 20, before_id: 9 }]);

    const bad = await call(h, "GET", "/api/inbox?limit=lots");
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: { code: string } }).error.code, ErrorCode.BadRequest);
    assert.match((bad.json as { error: { message: string } }).error.message, /limit/);
    assert.equal(seen.length, 1, "an invalid query never reaches NATS");
  });

  it("POST /api/send sends as the operator with a fresh client_id per submit", async () => {
    const got: SendRequest[] = [];
    await start(
      serve(h.nc, subjects.op.send, rpcs.send, (req) => {
        got.push(req);
        return { id: got.length, duplicate: false, sent_at: Date.now() };
      }),
    );
    const a = await call(h, "POST", "/api/send", { to: "alice", body: "hello alice" });
    const b = await call(h, "POST", "/api/send", { to: "alice", body: "hello alice" });
    assert.equal(a.status, 200);
    assert.equal((a.json as { id: number }).id, 1);
    assert.equal((b.json as { id: number }).id, 2);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.to, "alice");
    assert.equal(got[0]!.body, "hello alice");
    assert.ok(got[0]!.client_id && got[1]!.client_id);
    assert.notEqual(got[0]!.client_id, got[1]!.client_id);

    const c = await call(h, "POST", "/api/send", { to: "bob", body: "x", client_id: "form-42" });
    assert.equal(c.status, 200);
    assert.equal(got[2]!.client_id, "form-42", "a client-chosen id is kept for idempotence");
  });

  it("refuses invalid sends with 400 before they reach NATS", async () => {
    let calls = 0;
    await start(
      serve(h.nc, subjects.op.send, rpcs.send, () => {
        calls++;
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
    );
    for (const body of [
      { to: "Not A Name!", body: "hi" },
      { to: "alice", body: "" },
      { to: "operator", body: "to myself" },
      { body: "no recipient" },
    ]) {
      const r = await call(h, "POST", "/api/send", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((r.json as { error: { code: string } }).error.code, ErrorCode.BadRequest);
    }
    const notJson = await fetch(`${h.url}/api/send`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{nope",
    });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: { code: string } }).error.code, "bad_request");
    assert.equal(calls, 0);
  });

  it("maps the broker's body_too_large to 413 and not_found to 404", async () => {
    await start(
      serve(h.nc, subjects.op.send, rpcs.send, (req) => {
        if (bodyBytes(req.body) > MAX_BODY_BYTES) {
          throw new HiveError(ErrorCode.BodyTooLarge, "body is over 4096 bytes: write a file");
        }
        if (req.to === "ghost") throw new HiveError(ErrorCode.NotFound, "no agent ghost");
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
    );
    const big = await call(h, "POST", "/api/send", { to: "alice", body: "x".repeat(5000) });
    assert.equal(big.status, 413);
    assert.deepEqual(big.json, {
      error: {
        code: "body_too_large",
        message: "body is over 4096 bytes: write a file",
        retryable: false,
      },
    });
    const ghost = await call(h, "POST", "/api/send", { to: "ghost", body: "boo" });
    assert.equal(ghost.status, 404);
    assert.equal((ghost.json as { error: { code: string } }).error.code, "not_found");
  });

  it("answers unknown API paths with a JSON 404 and bad agent names with 400", async () => {
    const r = await call(h, "GET", "/api/nope");
    assert.equal(r.status, 404);
    assert.equal((r.json as { error: { code: string } }).error.code, "not_found");
    const bad = await call(h, "GET", "/api/agents/NOT_OK/live");
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: { code: string } }).error.code, "bad_request");
    const page = await fetch(`${h.url}/agents/NOT_OK`, { headers: auth });
    assert.equal(page.status, 400);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    await page.text();
  });
});
