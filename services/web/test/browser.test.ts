import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentStateEvent,
  bodyBytes,
  ErrorCode,
  HiveError,
  InboxAnnouncement,
  LiveEvent,
  MAX_BODY_BYTES,
  publishEvent,
  rpcs,
  type SendRequest,
  type Service,
  ServiceEvent,
  type StoredMessage,
  serve,
  subjects,
  writeFileAtomic,
} from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { FileToken } from "../src/token.js";
import { type BrowserSession, failedLoad, openChromium } from "./chromium.js";
import { agentInfo, type LiveBody, stored } from "./fixtures.js";
import { type Harness, startHarness, TOKEN, testLog } from "./helpers.js";

const SCREENSHOT = "/tmp/hive-dashboard.png";

describe("dashboard in a real headless Chromium", () => {
  let h: Harness;
  let url: string;
  const dir = tempDir("hive-web-browser-");
  const tokenFile = join(dir.path, "web-token");
  let tokens: FileToken;
  let chrome: BrowserSession;
  let page: Page;
  let services: Service[];
  /** Script errors, console errors and CSP violations of the page, over every test. */
  const errors = () => chrome.errors;
  const sends: SendRequest[] = [];
  const inbox: StoredMessage[] = [
    stored(2, "manager", "All agents are up. alice is on the parser."),
    stored(1, "alice", "Started on the parser; will report back."),
  ];

  beforeAll(async () => {
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    tokens = FileToken.open(tokenFile, testLog());
    h = await startHarness({ token: tokens });
    url = await h.listen();
    services = [
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: [
          agentInfo("manager"),
          agentInfo("alice", { state: "thinking", state_since: Date.now() - 5_000 }),
          agentInfo("bob", { state: "needs-login", state_since: Date.now() - 3_600_000 }),
          agentInfo("carol", { state: "offline", running: false }),
        ],
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: inbox })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, () => ({ approvals: [] })),
      serve(h.nc, subjects.op.questions, rpcs.opQuestions, () => ({ questions: [] })),
      serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
      serve(h.nc, subjects.op.send, rpcs.send, (req) => {
        if (bodyBytes(req.body) > MAX_BODY_BYTES) {
          throw new HiveError(
            ErrorCode.BodyTooLarge,
            `body is ${bodyBytes(req.body)} bytes, over ${MAX_BODY_BYTES}: write a file and send its path`,
          );
        }
        sends.push(req);
        return { id: 100 + sends.length, duplicate: false, sent_at: Date.now() };
      }),
    ];
    await h.nc.flush();
    chrome = await openChromium();
    page = chrome.page;
  });

  afterEach(() => {
    assert.deepEqual(errors().splice(0), [], "script or console errors on the page");
  });

  afterAll(async () => {
    await chrome?.close();
    await Promise.all((services ?? []).map((s) => s.stop()));
    await h?.stop();
    tokens?.close();
    dir.remove();
  });

  it("opens with ?token=, drops it from the URL and shows agents with state badges", async () => {
    await page.goto(`${url}/?token=${TOKEN}`);
    assert.equal(page.url(), `${url}/`);
    const badge = page.locator('#agents tr[data-agent="alice"] .badge');
    await badge.waitFor();
    assert.equal(await badge.textContent(), "thinking");
    assert.match((await badge.getAttribute("title")) ?? "", /^thinking since /);
    assert.equal(
      await page.locator('#agents tr[data-agent="bob"] .badge').textContent(),
      "needs-login",
    );
    await page.locator("#conn", { hasText: "live" }).waitFor();

    publishEvent(h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
      agent: "alice",
      state: "idle",
      since: Date.now(),
    });
    await page.locator('#agents tr[data-agent="alice"] .badge', { hasText: "idle" }).waitFor();
  });

  it("sends a message through the form", async () => {
    await page.selectOption("#send-to", "alice");
    await page.fill("#send-body", "please summarise the parser work");
    await page.click("#send-button");
    await waitUntil(() => sends.length === 1, { what: "the send responder to get the message" });
    assert.equal(sends[0]!.to, "alice");
    assert.equal(sends[0]!.body, "please summarise the parser work");
    assert.ok(sends[0]!.client_id);
    await page.locator("#send-status", { hasText: "sent #101 to alice" }).waitFor();
    assert.equal(await page.inputValue("#send-body"), "");
  });

  it("shows the typed error when a send fails", async () => {
    await page.fill("#send-body", "x".repeat(MAX_BODY_BYTES + 10));
    await page.click("#send-button");
    const err = page.locator("#send-error");
    await err.waitFor({ state: "visible" });
    assert.match((await err.textContent()) ?? "", /^body_too_large: body is 4106 bytes/);
    assert.equal(sends.length, 1);
    // Chromium reports every non-2xx fetch on the console; this one is expected.
    assert.deepEqual(errors().splice(0), [failedLoad(413, "Payload Too Large")]);
  });

  it("shows a new inbox message live, newest first, as text", async () => {
    const hostile = `done: <img src=x onerror="document.title='pwned'"> & <b>bold</b>`;
    inbox.unshift(stored(3, "alice", hostile));
    publishEvent(h.nc, subjects.inbox("operator"), InboxAnnouncement, {
      id: 3,
      from: "alice",
      to: "operator",
      preview: hostile,
      sent_at: Date.now(),
    });
    const first = page.locator("#inbox li").first();
    await page.locator('#inbox li[data-id="3"]').waitFor();
    assert.equal(await first.getAttribute("data-id"), "3");
    assert.equal(await first.locator(".body").textContent(), hostile);
    assert.equal(await page.locator("#inbox img, #inbox b").count(), 0);
    assert.notEqual(await page.title(), "pwned");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("shows what hive up says about its services, live: an exit, the restart, back up", async () => {
    assert.equal(await page.locator("#services-panel").count(), 0, "nothing happened yet");
    const at = Date.now();
    const say = (event: ServiceEvent["event"], starts: number, detail?: string) =>
      publishEvent(h.nc, subjects.events.service("broker"), ServiceEvent, {
        service: "broker",
        event,
        at,
        starts,
        ...(detail === undefined ? {} : { detail }),
      });
    say("exited", 1, "signal SIGKILL");
    say("restarting", 1, "in 250 ms");
    say("started", 2);
    const items = page.locator("#services li");
    await page.locator('#services li[data-event="started"]').waitFor();
    assert.deepEqual(
      await items.evaluateAll((els) => els.map((e) => e.textContent?.trim() ?? "")),
      [
        "broker back up (start 2) 0s",
        "broker restarting in 250 ms 0s",
        "broker exited (signal SIGKILL) 0s",
      ],
    );
  });

  it("streams a live turn on /agents/<name>", async () => {
    await page.goto(`${url}/agents/alice`);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    await page.locator("#agent-state", { hasText: "thinking" }).waitFor();

    const turn = { agent: "alice", turn_id: "alice-1700000000000-1" };
    let seq = 0;
    const live = (ev: LiveBody) =>
      publishEvent(h.nc, subjects.live("alice"), LiveEvent, {
        ...turn,
        seq: seq++,
        at: Date.now(),
        ...ev,
      });
    live({
      kind: "turn_start",
      message: {
        id: 101,
        from: "operator",
        body: "please summarise the parser work",
        redelivered: true,
      },
      pending: 0,
      model: "haiku",
    });
    live({
      kind: "stream",
      event: { type: "system", subtype: "init", model: "claude-haiku" },
    });
    live({
      kind: "stream",
      event: {
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "Reading the parser notes <script>alert(1)</script> first." },
            {
              type: "tool_use",
              id: "tu_1",
              name: "mcp__hyperhive__send",
              input: { to: "operator", body: "pong" },
            },
          ],
        },
      },
    });
    live({
      kind: "stream",
      event: {
        type: "user",
        message: { content: [{ type: "tool_result", tool_use_id: "tu_1", content: "sent #7" }] },
      },
    });
    live({
      kind: "stream",
      event: {
        type: "result",
        subtype: "success",
        is_error: false,
        duration_ms: 2345,
        num_turns: 2,
        total_cost_usd: 0.0123,
        result: "Summary sent.",
        usage: { input_tokens: 1200, output_tokens: 80, cache_read_input_tokens: 500 },
      },
    });
    live({ kind: "note", text: "acked message 101" });
    live({ kind: "turn_end", ok: true, result: "ok" });

    const card = page.locator('article.turn[data-turn="alice-1700000000000-1"]');
    await card.locator(".ev.end").waitFor();
    assert.match((await card.locator(".ev.start").textContent()) ?? "", /from operator/);
    assert.equal(await card.locator(".ev.start .redelivered").count(), 1);
    assert.equal(
      await card.locator(".ev.assistant .ev-text").textContent(),
      "Reading the parser notes <script>alert(1)</script> first.",
    );
    assert.match(
      (await card.locator(".ev.tool-call").textContent()) ?? "",
      /mcp__hyperhive__send[\s\S]*"to": "operator"/,
    );
    assert.match((await card.locator(".ev.tool-result").textContent()) ?? "", /sent #7/);
    const final = (await card.locator(".ev.final").textContent()) ?? "";
    assert.match(final, /2\.3 s/);
    assert.match(final, /\$0\.0123/);
    assert.match(final, /in 1200/);
    assert.match(final, /out 80/);
    assert.match((await card.locator(".ev.note").textContent()) ?? "", /acked message 101/);
    assert.equal(await page.locator("#turns script").count(), 0);
    assert.equal(await card.getAttribute("class"), "turn", "no longer active after turn_end");

    publishEvent(h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
      agent: "alice",
      state: "needs-login",
      since: Date.now(),
      note: "Not logged in",
    });
    const badge = page.locator("#agent-state", { hasText: "needs-login" });
    await badge.waitFor();
    assert.match((await badge.getAttribute("title")) ?? "", / — Not logged in$/);
    await page.screenshot({ path: "/tmp/hive-agent.png", fullPage: true });
  });

  it("links each agent to its page; an agent not in the registry is a 404 page, not a wait", async () => {
    await page.goto(`${url}/`);
    await page.locator('#agents tr[data-agent="carol"] a').click();
    await page.waitForURL(`${url}/agents/carol`);
    await page.locator("#agent-state", { hasText: "offline" }).waitFor();

    const res = await page.goto(`${url}/agents/ghost`);
    assert.equal(res?.status(), 404);
    assert.match((await page.locator(".error").textContent()) ?? "", /no agent named ghost/);
    assert.deepEqual(errors().splice(0), [failedLoad(404, "Not Found")]);
  });

  it("after the token is rotated, an open page is cut off until it is opened with the new one", async () => {
    await page.goto(`${url}/`);
    await page.locator("#conn", { hasText: "live" }).waitFor();

    const rotated = "rotated-operator-token-0123456789";
    writeFileAtomic(tokenFile, rotated, { mode: 0o600 });
    // The stream is ended; EventSource reconnects with the old cookie and is refused for good.
    const conn = page.locator("#conn");
    await conn.and(page.locator('[data-status="closed"]')).waitFor();
    assert.match((await conn.textContent()) ?? "", /disconnected/);
    const cut = errors().splice(0);
    assert.ok(cut.length > 0 && cut.every((e) => /401/.test(e)), cut.join("\n"));

    await page.goto(`${url}/?token=${rotated}`);
    assert.equal(page.url(), `${url}/`);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    await page.locator('#agents tr[data-agent="alice"]').waitFor();
  });
});
