import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { rpcs, type Service, serve, subjects } from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { tokenMatches } from "../src/auth.js";
import {
  agentInfo,
  auth,
  type Harness,
  SseClient,
  startHarness,
  stored,
  TOKEN,
} from "./helpers.js";

const SECRET_AGENT = "zorblax";
const SECRET_BODY = "the launch code is 0451";

/** Every route the app has, plus an unknown one: all must refuse a request without the token. */
const ROUTES: Array<{ method: "GET" | "POST"; path: string; api: boolean }> = [
  { method: "GET", path: "/", api: false },
  { method: "GET", path: `/agents/${SECRET_AGENT}`, api: false },
  { method: "GET", path: "/assets/dashboard.js", api: false },
  { method: "GET", path: "/assets/style.css", api: false },
  { method: "GET", path: "/no-such-page", api: false },
  { method: "GET", path: "/api/agents", api: true },
  { method: "GET", path: "/api/inbox", api: true },
  { method: "POST", path: "/api/send", api: true },
  { method: "GET", path: "/api/events", api: true },
  { method: "GET", path: `/api/agents/${SECRET_AGENT}/live`, api: true },
  { method: "GET", path: "/api/nope", api: true },
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
        agents: [agentInfo(SECRET_AGENT)],
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({
        messages: [stored(1, SECRET_AGENT, SECRET_BODY)],
      })),
      serve(h.nc, subjects.op.send, rpcs.send, () => {
        sends++;
        return { id: 1, duplicate: false, sent_at: Date.now() };
      }),
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
  ];
  for (const [what, headers, query] of variants) {
    it(`answers every route 401 with ${what}, leaking nothing`, async () => {
      for (const r of ROUTES) {
        const res = await fetch(h.url + r.path + query, {
          method: r.method,
          redirect: "manual",
          headers: { ...headers, "content-type": "application/json" },
          ...(r.method === "POST" ? { body: JSON.stringify({ to: "alice", body: "hi" }) } : {}),
        });
        const text = await res.text();
        assert.equal(res.status, 401, `${r.method} ${r.path}${query} -> ${res.status}`);
        assert.ok(!text.includes(SECRET_AGENT), `${r.path} leaks the agent name`);
        assert.ok(!text.includes(SECRET_BODY), `${r.path} leaks a message body`);
        assert.equal(res.headers.get("set-cookie"), null);
        if (r.api) {
          assert.match(res.headers.get("content-type") ?? "", /application\/json/);
          assert.deepEqual(JSON.parse(text), {
            error: { code: "unauthorized", message: "operator token required", retryable: false },
          });
        } else {
          assert.match(res.headers.get("content-type") ?? "", /text\/html/);
          assert.match(text, /unauthorized/);
          assert.ok(!text.includes("<script"), "the 401 page loads no scripts");
        }
      }
      assert.equal(sends, 0, "no send went through");
    });
  }

  it("lets a bearer token through on pages and API", async () => {
    const page = await fetch(`${h.url}/`, { headers: auth });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Operator inbox/);
    const api = await fetch(`${h.url}/api/agents`, { headers: auth });
    assert.equal(api.status, 200);
    assert.equal(((await api.json()) as { agents: unknown[] }).agents.length, 1);
    const asset = await fetch(`${h.url}/assets/dashboard.js`, { headers: auth });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("content-type") ?? "", /javascript/);
  });

  it("trades ?token= on a page load for an HttpOnly SameSite=Strict cookie and a clean URL", async () => {
    const res = await fetch(`${h.url}/agents/alice?token=${TOKEN}&tab=live`, {
      redirect: "manual",
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/agents/alice?tab=live");
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^hive_token=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    await res.text();

    const jar = cookie.split(";")[0]!;
    const page = await fetch(`${h.url}/agents/alice?tab=live`, { headers: { cookie: jar } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /data-agent="alice"/);
    const api = await fetch(`${h.url}/api/inbox`, { headers: { cookie: jar } });
    assert.equal(api.status, 200);
    const sse = await SseClient.open(`${h.url}/api/events`, { cookie: jar });
    assert.equal(sse.status, 200);
    assert.equal((await sse.next()).event, "snapshot");
    await sse.close();

    const root = await fetch(`${h.url}/?token=${TOKEN}`, { redirect: "manual" });
    assert.equal(root.headers.get("location"), "/");
    await root.text();
  });

  it("redirects ?token= only to a path on this host, never to //other-host", async () => {
    // fetch would normalise the path; node:http sends it as written.
    const location = await new Promise<string | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(h.url);
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
    const res = await fetch(`${h.url}/api/agents?token=${TOKEN}`, { redirect: "manual" });
    assert.equal(res.status, 401);
    await res.text();
  });

  it("compares tokens without early exit on length or content", () => {
    assert.equal(tokenMatches("abc", "abc"), true);
    assert.equal(tokenMatches("abc", "abd"), false);
    assert.equal(tokenMatches("abc", "ab"), false);
    assert.equal(tokenMatches("abc", ""), false);
    assert.equal(tokenMatches("abc", undefined), false);
  });

  it("refuses a cookie-authenticated POST from another origin (CSRF), even one on the same site", async () => {
    const jar = `hive_token=${encodeURIComponent(TOKEN)}`;
    const post = (
      headers: Record<string, string>,
      body = JSON.stringify({ to: "alice", body: "hi" }),
    ) =>
      fetch(`${h.url}/api/send`, {
        method: "POST",
        headers: { cookie: jar, "content-type": "application/json", ...headers },
        body,
      });
    const before = sends;
    // Another port on 127.0.0.1 is the same *site*, so SameSite=Strict still sends the cookie.
    const port = new URL(h.url).port;
    const otherOrigin = `http://127.0.0.1:${Number(port) === 1 ? 2 : 1}`;
    const crossSite: Array<Record<string, string>> = [
      { origin: otherOrigin },
      { origin: "null" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site", origin: h.url },
    ];
    for (const headers of crossSite) {
      const res = await post(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "forbidden");
    }
    // A form can only post text/plain or form data; neither reaches NATS.
    const form = await post({ origin: otherOrigin, "content-type": "text/plain" });
    assert.equal(form.status, 403);
    await form.text();
    assert.equal(sends, before, "no cross-origin send went through");

    // The page's own fetch (same origin) goes through; so does a bearer call without Origin.
    const own = await post({ origin: h.url, "sec-fetch-site": "same-origin" });
    assert.equal(own.status, 200);
    await own.text();
    const cli = await fetch(`${h.url}/api/send`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ to: "alice", body: "hi" }),
    });
    assert.equal(cli.status, 200);
    await cli.text();
    assert.equal(sends, before + 2);
  });

  it("sets security headers on pages", async () => {
    const res = await fetch(`${h.url}/`, { headers: auth });
    await res.text();
    assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  });
});
