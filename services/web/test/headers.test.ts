import assert from "node:assert/strict";
import { rpcs, type Service, serve, subjects } from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { agentInfo } from "./fixtures.js";
import { call, type Harness, startHarness, TOKEN } from "./helpers.js";
import { SseClient } from "./sse-client.js";

const CSP =
  "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;" +
  "connect-src 'self';form-action 'self';base-uri 'none';frame-ancestors 'none'";

/** The policy every response carries, whatever it is. */
function assertPolicy(headers: Record<string, unknown>, what: string): void {
  assert.equal(headers["content-security-policy"], CSP, what);
  assert.equal(headers["x-content-type-options"], "nosniff", what);
  assert.equal(headers["referrer-policy"], "no-referrer", what);
  assert.equal(headers["x-frame-options"], "DENY", what);
  assert.equal(headers["strict-transport-security"], undefined, `${what}: no HSTS on plain http`);
}

describe("security headers", () => {
  let h: Harness;
  let registry: Service;
  beforeAll(async () => {
    h = await startHarness({ requestTimeoutMs: 300 });
    registry = serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("alice")],
    }));
    await h.nc.flush();
  });
  afterAll(async () => {
    await registry.stop();
    await h.stop();
  });

  it("are on every kind of response: pages, assets, API, errors, 401s, redirects", async () => {
    const cases: Array<[string, string, Record<string, string> | undefined, number]> = [
      ["dashboard", "/", undefined, 200],
      ["agent page", "/agents/alice", undefined, 200],
      ["flow page", "/flow?agent=alice", undefined, 200],
      ["script", "/assets/app.js", undefined, 200],
      ["stylesheet", "/assets/style.css", undefined, 200],
      ["API", "/api/agents", undefined, 200],
      ["API 400", "/api/inbox?limit=0", undefined, 400],
      ["API 404", "/api/nope", undefined, 404],
      ["page 404", "/nope", undefined, 404],
      ["page 400", "/agents/NOT_OK", undefined, 400],
      ["page 401", "/", {}, 401],
      ["API 401", "/api/agents", {}, 401],
      ["token redirect", `/?token=${TOKEN}`, {}, 303],
    ];
    for (const [what, url, headers, status] of cases) {
      const r = await call(h.app, "GET", url, headers === undefined ? {} : { headers });
      assert.equal(r.status, status, what);
      assertPolicy(r.headers, what);
    }
  });

  it("are on the live streams too", async () => {
    const url = await h.listen();
    for (const path of ["/api/agents/alice/live", "/api/flow"]) {
      const sse = await SseClient.open(`${url}${path}`);
      assert.equal(sse.status, 200, path);
      assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
      assertPolicy(Object.fromEntries(sse.headers), `SSE ${path}`);
      await sse.close();
    }
  });
});
