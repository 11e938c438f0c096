import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { rpcs, type Service, serve, subjects } from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { tokenMatches } from "../src/auth.js";
import { api as wire } from "../src/wire.js";
import { agentInfo, stored } from "./fixtures.js";
import { call, type Harness, startHarness, TOKEN } from "./helpers.js";
import { SseClient } from "./sse-client.js";

const SECRET_AGENT = "zorblax";
const SECRET_BODY = "the launch code is 0451";

/** The routes that change something besides sending: the operator's actions on the hive. */
const ACTIONS = [
  wire.agentAction.url(SECRET_AGENT, "destroy"),
  wire.purge.url(SECRET_AGENT),
  wire.model.url(SECRET_AGENT),
  wire.compact.url(SECRET_AGENT),
  wire.newSession.url(SECRET_AGENT),
  wire.cancel.url(SECRET_AGENT),
  wire.restartAll.path,
  wire.approve.url(1),
  wire.deny.url(1),
  wire.answer.url(1),
  wire.cancelQuestion.url(1),
  wire.remind.url(SECRET_AGENT),
  wire.cancelReminder.url(1),
  wire.retryReminder.url(1),
];

/** Every route the app has, plus unknown ones: all must refuse a request without the token. */
const ROUTES: Array<{ method: "GET" | "POST"; path: string; api: boolean }> = [
  { method: "GET", path: "/", api: false },
  { method: "GET", path: `/agents/${SECRET_AGENT}`, api: false },
  { method: "GET", path: "/assets/app.js", api: false },
  { method: "GET", path: "/assets/style.css", api: false },
  { method: "GET", path: "/assets/no-such.js", api: false },
  { method: "GET", path: "/no-such-page", api: false },
  { method: "GET", path: "/api/agents", api: true },
  { method: "GET", path: "/api/inbox", api: true },
  { method: "POST", path: "/api/send", api: true },
  { method: "GET", path: "/api/events", api: true },
  { method: "GET", path: `/api/agents/${SECRET_AGENT}/live`, api: true },
  { method: "GET", path: "/api/nope", api: true },
  { method: "GET", path: "/api/approvals", api: true },
  { method: "GET", path: "/flow", api: false },
  { method: "GET", path: `/flow?agent=${SECRET_AGENT}`, api: false },
  { method: "GET", path: "/api/flow", api: true },
  { method: "GET", path: "/api/history", api: true },
  { method: "GET", path: `/api/history?agent=${SECRET_AGENT}`, api: true },
  { method: "GET", path: "/api/questions?all=true", api: true },
  { method: "GET", path: `/api/threads?agent=${SECRET_AGENT}`, api: true },
  { method: "GET", path: `/api/reminders?agent=${SECRET_AGENT}&all=true`, api: true },
  { method: "GET", path: "/api/reminders/counts", api: true },
  ...ACTIONS.map((path) => ({ method: "POST" as const, path, api: true })),
];

describe("operator token", () => {
  let h: Harness;
  let services: Service[];
  let sends = 0;
  beforeAll(async () => {
    h = await startHarness();
    // Responders that would leak data if the guard let a request through.
    services = [
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: [agentInfo(SECRET_AGENT), agentInfo("alice")],
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({
        messages: [stored(1, SECRET_AGENT, SECRET_BODY)],
      })),
      serve(h.nc, subjects.op.send, rpcs.send, () => {
        sends++;
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
      serve(h.nc, subjects.op.history, rpcs.opHistory, () => ({
        messages: [stored(1, SECRET_AGENT, SECRET_BODY)],
        next_before_id: null,
      })),
    ];
    await h.nc.flush();
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await h.stop();
  });

  const variants: Array<[string, Record<string, string>, string]> = [
    ["no credentials", {}, ""],
    ["a wrong bearer token", { authorization: "Bearer not-the-token" }, ""],
    ["a wrong cookie", { cookie: "hive_token=nope" }, ""],
    ["a wrong query token", {}, "?token=nope"],
    ["a bearer token with a suffix", { authorization: `Bearer ${TOKEN}x` }, ""],
    ["the token as a cookie of another name", { cookie: `token=${TOKEN}` }, ""],
  ];
  for (const [what, headers, query] of variants) {
    it(`answers every route 401 with ${what}, leaking nothing`, async () => {
      for (const r of ROUTES) {
        const res = await call(h.app, r.method, r.path + query, {
          headers,
          ...(r.method === "POST" ? { body: { to: "alice", body: "hi" } } : {}),
        });
        const where = `${r.method} ${r.path}${query}`;
        assert.equal(res.status, 401, `${where} -> ${res.status}`);
        assert.ok(!res.text.includes(SECRET_AGENT), `${where} leaks the agent name`);
        assert.ok(!res.text.includes(SECRET_BODY), `${where} leaks a message body`);
        assert.equal(res.headers["set-cookie"], undefined);
        assert.equal(res.headers["cache-control"], "no-store");
        if (r.api) {
          assert.match(String(res.headers["content-type"]), /application\/json/);
          assert.equal(res.headers["www-authenticate"], 'Bearer realm="hyperhive"');
          assert.deepEqual(res.json(), {
            error: { code: "unauthorized", message: "operator token required", retryable: false },
          });
        } else {
          assert.match(String(res.headers["content-type"]), /text\/html/);
          assert.match(res.text, /unauthorized/);
          assert.ok(!res.text.includes("<script"), "the 401 page loads no scripts");
        }
      }
      assert.equal(sends, 0, "no send went through");
    });
  }

  it("lets a bearer token through on pages, assets and API", async () => {
    const page = await call(h.app, "GET", "/");
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\/assets\/app\.js">/);
    assert.match(page.text, /data-page="dashboard"/);
    const api = await call(h.app, "GET", "/api/agents");
    assert.equal(api.status, 200);
    assert.deepEqual(
      wire.agents.reply.parse(api.json()).agents.map((a) => a.name),
      [SECRET_AGENT, "alice"],
    );
    const asset = await call(h.app, "GET", "/assets/app.js");
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers["content-type"]), /javascript/);
    assert.equal(asset.headers["cache-control"], "no-cache");
    const css = await call(h.app, "GET", "/assets/style.css");
    assert.equal(css.status, 200);
    assert.match(String(css.headers["content-type"]), /text\/css/);
  });

  it("trades ?token= on a page load for an HttpOnly SameSite=Strict cookie and a clean URL", async () => {
    const res = await call(h.app, "GET", `/agents/alice?token=${TOKEN}&tab=live`, { headers: {} });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, "/agents/alice?tab=live");
    assert.equal(res.headers["cache-control"], "no-store");
    const cookie = String(res.headers["set-cookie"]);
    assert.match(cookie, /^hive_token=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);

    const jar = { cookie: cookie.split(";")[0]! };
    const page = await call(h.app, "GET", "/agents/alice?tab=live", { headers: jar });
    assert.equal(page.status, 200);
    assert.match(page.text, /data-agent="alice"/);
    const api = await call(h.app, "GET", "/api/inbox", { headers: jar });
    assert.equal(api.status, 200);

    const root = await call(h.app, "GET", `/?token=${TOKEN}`, { headers: {} });
    assert.equal(root.headers.location, "/");
  });

  it("takes the cookie on the live streams", async () => {
    const url = await h.listen();
    const sse = await SseClient.open(`${url}/api/events`, {
      cookie: `hive_token=${encodeURIComponent(TOKEN)}`,
    });
    assert.equal(sse.status, 200);
    assert.equal((await sse.next()).event, "snapshot");
    await sse.close();
    const flow = await SseClient.open(`${url}/api/flow`, {
      cookie: `hive_token=${encodeURIComponent(TOKEN)}`,
    });
    assert.equal(flow.status, 200);
    assert.equal((await flow.next()).event, "snapshot");
    await flow.close();
  });

  it("redirects ?token= only to a path on this host, never to //other-host", async () => {
    // inject and fetch would normalise the path; node:http sends it as written.
    const url = await h.listen();
    const location = await new Promise<string | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const path = `/.//evil.example/x?token=${TOKEN}`;
      const req = httpRequest({ hostname, port, path }, (res) => {
        res.resume();
        resolve(res.headers.location);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(location, "/evil.example/x");
  });

  it("does not take ?token= on the API (tokens stay out of API URLs)", async () => {
    const res = await call(h.app, "GET", `/api/agents?token=${TOKEN}`, { headers: {} });
    assert.equal(res.status, 401);
  });

  it("compares tokens without early exit on length or content", () => {
    assert.equal(tokenMatches("abc", "abc"), true);
    assert.equal(tokenMatches("abc", "abd"), false);
    assert.equal(tokenMatches("abc", "ab"), false);
    assert.equal(tokenMatches("abc", ""), false);
    assert.equal(tokenMatches("abc", undefined), false);
    assert.equal(tokenMatches(undefined, "abc"), false, "no operator token lets nobody in");
    assert.equal(tokenMatches("", ""), false);
  });

  it("refuses a cookie-authenticated POST from another origin (CSRF), even one on the same site", async () => {
    const jar = `hive_token=${encodeURIComponent(TOKEN)}`;
    const host = "127.0.0.1:7777";
    const post = (headers: Record<string, string>, body: unknown = { to: "alice", body: "hi" }) =>
      call(h.app, "POST", "/api/send", { headers: { cookie: jar, host, ...headers }, body });
    const before = sends;
    // Another port on 127.0.0.1 is the same *site*, so SameSite=Strict still sends the cookie.
    const crossSite: Array<Record<string, string>> = [
      { origin: "http://127.0.0.1:1" },
      { origin: "null" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site", origin: `http://${host}` },
    ];
    for (const headers of crossSite) {
      const res = await post(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.deepEqual(res.json(), {
        error: { code: "forbidden", message: "cross-origin request refused", retryable: false },
      });
    }
    // A form can only post text/plain or form data; neither reaches NATS.
    const form = await call(h.app, "POST", "/api/send", {
      headers: { cookie: jar, host, origin: "http://127.0.0.1:1", "content-type": "text/plain" },
      raw: "to=alice&body=hi",
    });
    assert.equal(form.status, 403);
    assert.equal(sends, before, "no cross-origin send went through");

    // The page's own fetch (same origin) goes through; so does a bearer call without Origin.
    const own = await post({ origin: `http://${host}`, "sec-fetch-site": "same-origin" });
    assert.equal(own.status, 200);
    const ownOld = await post({ origin: `http://${host}` });
    assert.equal(ownOld.status, 200, "same origin by Origin and Host (no Sec-Fetch-Site)");
    const cli = await call(h.app, "POST", "/api/send", { body: { to: "alice", body: "hi" } });
    assert.equal(cli.status, 200);
    assert.equal(sends, before + 3);
  });

  it("refuses the operator's actions from another origin too, before anything reaches NATS", async () => {
    const jar = `hive_token=${encodeURIComponent(TOKEN)}`;
    const host = "127.0.0.1:7777";
    const asked = h.nc.subscribe("hive.op.>");
    await h.nc.flush();
    for (const path of ACTIONS) {
      const res = await call(h.app, "POST", path, {
        headers: { cookie: jar, host, origin: "http://127.0.0.1:1", "sec-fetch-site": "same-site" },
        body: {},
      });
      assert.equal(res.status, 403, path);
    }
    await h.nc.flush();
    assert.equal(asked.getReceived(), 0, "no operator action reached NATS");
    asked.unsubscribe();
  });
});
