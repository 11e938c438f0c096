import assert from "node:assert/strict";
import { LiveEvent, publishEvent, rpcs, serve, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { browserScope } from "./chromium.js";
import { agentInfo, type LiveBody } from "./fixtures.js";
import { TOKEN } from "./helpers.js";

const FIRST = "alice-1700000000000-1";
const SECOND = "alice-1700000000000-2";

describe("the agent page's live turns keep what came before the page (history), in a real headless Chromium", () => {
  const t = browserScope((h) => [
    serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("manager"), agentInfo("alice", { state: "thinking" })],
    })),
    serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
    serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
  ]);

  /** Publishes the next event of `turn_id` as alice's harness would. */
  const seqs = new Map<string, number>();
  const live = (turn_id: string, ev: LiveBody) => {
    const seq = seqs.get(turn_id) ?? 0;
    seqs.set(turn_id, seq + 1);
    publishEvent(t.h.nc, subjects.live("alice"), LiveEvent, {
      agent: "alice",
      turn_id,
      seq,
      at: Date.now(),
      ...ev,
    });
  };
  const start = (turn_id: string, body: string) =>
    live(turn_id, {
      kind: "turn_start",
      message: { id: 40 + seqs.size, from: "operator", body, redelivered: false },
      pending: 0,
      model: "haiku",
    });
  /** Resolves once the web keeps `n` events of alice's: a page opened now has them as history. */
  const kept = (n: number) =>
    waitUntil(() => t.h.app.turnHistory.events("alice").length === n, {
      what: `the web to keep ${n} of alice's events`,
    });
  const card = (turn_id: string) => t.page.locator(`article.turn[data-turn="${turn_id}"]`);
  /** How many event blocks the turn's card shows. */
  const shown = (turn_id: string) => card(turn_id).locator(".turn-body > .ev").count();

  it("shows a turn that ended before the page opened, then a new one live; a reload or reconnect mid-turn shows it once", async () => {
    const page = t.page;
    start(FIRST, "summarise the parser work");
    live(FIRST, {
      kind: "stream",
      event: {
        type: "assistant",
        message: { content: [{ type: "text", text: "Parser <b>summary</b> sent." }] },
      },
    });
    live(FIRST, { kind: "note", text: "acked message 41" });
    live(FIRST, { kind: "turn_end", ok: true, result: "ok" });
    await kept(4);

    // Opened after the turn: it shows at once, whole and ended.
    await page.goto(`${t.url}/agents/alice?token=${TOKEN}`);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    await card(FIRST).locator(".ev.end").waitFor();
    assert.match((await card(FIRST).locator(".ev.start").textContent()) ?? "", /from operator/);
    assert.equal(
      await card(FIRST).locator(".ev.assistant .ev-text").textContent(),
      "Parser <b>summary</b> sent.",
    );
    assert.equal(await card(FIRST).getAttribute("class"), "turn");
    assert.equal(await shown(FIRST), 4);
    assert.equal(await page.locator("#turns-empty").count(), 0);

    // A new turn streams in live, newest first, active.
    start(SECOND, "now the lexer");
    live(SECOND, { kind: "note", text: "reading the lexer" });
    await card(SECOND).locator(".ev.note").waitFor();
    assert.equal(await card(SECOND).getAttribute("class"), "turn active");
    assert.deepEqual(
      await page.locator("article.turn").evaluateAll((els) => els.map((e) => e.dataset.turn)),
      [SECOND, FIRST],
    );

    // Reloaded mid-turn: the turn in progress shows once, active, each event once.
    await kept(6);
    await page.reload();
    await page.locator("#conn", { hasText: "live" }).waitFor();
    await card(SECOND).locator(".ev.note").waitFor();
    assert.equal(await card(SECOND).count(), 1);
    assert.equal(await card(SECOND).getAttribute("class"), "turn active");
    assert.equal(await shown(SECOND), 2);
    assert.equal(await shown(FIRST), 4);

    // The streams drop and EventSource reconnects: the history replaces the turns (nothing
    // doubled), and what came while it was away shows.
    t.h.app.sseHub.endAll();
    await page.locator('#conn[data-status="reconnecting"]').waitFor();
    live(SECOND, { kind: "note", text: "while the page was away" });
    await kept(7);
    await page.locator('#conn[data-status="live"]').waitFor();
    await card(SECOND).locator(".ev.note", { hasText: "while the page was away" }).waitFor();
    assert.equal(await shown(SECOND), 3);
    assert.equal(await shown(FIRST), 4);

    // It goes on live after the reconnect, still once.
    live(SECOND, { kind: "turn_end", ok: true, result: "ok" });
    await card(SECOND).locator(".ev.end").waitFor();
    assert.equal(await card(SECOND).getAttribute("class"), "turn");
    assert.equal(await shown(SECOND), 4);
    assert.equal(await page.locator("article.turn").count(), 2);
  });

  it("the header says the context its latest turn filled (its last API call) and how long its last turn took", async () => {
    const page = t.page;
    const THIRD = "alice-1700000000000-3";
    assert.equal(await page.locator("#agent-ctx").count(), 0, "no usage seen yet: no badge");
    assert.equal(await page.locator("#agent-last-turn").count(), 0, "no result seen yet");
    const assistant = (usage: Record<string, number>) =>
      live(THIRD, {
        kind: "stream",
        event: { type: "assistant", message: { content: [{ type: "text", text: "…" }], usage } },
      });
    start(THIRD, "one more");
    assistant({ input_tokens: 5, cache_read_input_tokens: 900, output_tokens: 20 });
    // The turn's last call: what the context holds now (the result's usage sums every call).
    assistant({
      input_tokens: 10,
      cache_read_input_tokens: 11_000,
      cache_creation_input_tokens: 1_200,
      output_tokens: 140,
    });
    live(THIRD, {
      kind: "stream",
      event: {
        type: "result",
        duration_ms: 2345,
        usage: { input_tokens: 15, cache_read_input_tokens: 11_900, output_tokens: 160 },
      },
    });
    live(THIRD, { kind: "turn_end", ok: true, result: "ok" });
    await page.locator("#agent-ctx", { hasText: "12,350 tokens" }).waitFor();
    assert.equal(
      await page.locator("#agent-ctx").getAttribute("title"),
      "the context of its latest API call: input 10 · cache read 11000 · cache write 1200 · output 140",
    );
    assert.equal(await page.locator("#agent-last-turn").textContent(), "last turn 2.3 s");
    assert.equal(await page.locator("#agent-last-turn").getAttribute("title"), "2345 ms");
    // Kept across a reload: the figures come from the turns the web kept.
    await page.reload();
    await page.locator("#agent-ctx", { hasText: "12,350 tokens" }).waitFor();
    await page.locator("#agent-last-turn", { hasText: "last turn 2.3 s" }).waitFor();
  });
});
