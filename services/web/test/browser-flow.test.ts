import assert from "node:assert/strict";
import {
  BroadcastAnnouncement,
  DeliveryEvent,
  type HistoryRequest,
  InboxAnnouncement,
  publishEvent,
  rpcs,
  type SendRequest,
  type StoredMessage,
  serve,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { browserScope, dataIds, receiptStates } from "./chromium.js";
import { agentInfo, message, receipt } from "./fixtures.js";
import { type Recorder, record, TOKEN } from "./helpers.js";

const AGENTS = ["alice", "bob", "carol"];

describe("mail in a real headless Chromium: the flow view, broadcasts, replies (the broker stood in for)", () => {
  /** The broker's store as the stand-in keeps it. */
  const store = new Map<number, StoredMessage>();
  let history: Recorder<HistoryRequest>;
  let send: Recorder<SendRequest>;
  const t = browserScope((h) => {
    for (const m of [
      message(1, "alice", "bob", "shall we split the parser?"),
      message(2, "bob", "alice", "yes: you take the lexer", {
        in_reply_to: 1,
        reply_to: { id: 1, from: "alice", quote: "shall we split the parser?" },
      }),
      message(3, "manager", "*", "standup at ten", {
        receipts: [
          receipt("alice", { state: "acked", deliveries: 1, acked_at: Date.now() - 500 }),
          receipt("bob"),
          receipt("carol"),
        ],
      }),
      message(4, "carol", "operator", "the build is green"),
      message(5, "alice", "bob", "lexer done", {
        in_reply_to: 2,
        reply_to: { id: 2, from: "bob", quote: "yes: you take the lexer" },
      }),
      message(6, "system", "operator", "alice was restarted"),
    ]) {
      store.set(m.id, m);
    }
    history = record(h.nc, subjects.op.history, rpcs.opHistory, (req) => {
      const a = req.agent;
      const below = [...store.values()]
        .filter((m) => req.before_id === undefined || m.id < req.before_id)
        .filter((m) => a === undefined || m.from === a || m.receipts.some((r) => r.recipient === a))
        .sort((x, y) => y.id - x.id);
      const limit = req.limit ?? 50;
      const messages = below.slice(0, limit);
      return {
        messages,
        next_before_id: below.length > limit ? (messages.at(-1)?.id ?? null) : null,
      };
    });
    let sent = 0;
    send = record(h.nc, subjects.op.send, rpcs.send, () => ({
      id: 100 + sent++,
      duplicate: false,
      sent_at: Date.now(),
    }));
    return [
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: ["manager", ...AGENTS].map((n) => agentInfo(n)),
      })),
      // The inbox is what is addressed to the operator (a broadcast never is: it goes to agents).
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({
        messages: [...store.values()].filter((m) => m.to === "operator").reverse(),
      })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, () => ({ approvals: [] })),
      serve(h.nc, subjects.op.questions, rpcs.opQuestions, () => ({ questions: [] })),
      history.service,
      send.service,
    ];
  });

  /** What the broker does when a receipt changes: keep it, publish its event. */
  const deliver = (id: number, recipient: string, state: DeliveryEvent["state"], n = 1) => {
    const m = store.get(id);
    assert.ok(m, `#${id} is stored`);
    const at = Date.now();
    store.set(id, {
      ...m,
      receipts: m.receipts.map((r) =>
        r.recipient === recipient
          ? { recipient, state, deliveries: n, acked_at: state === "acked" ? at : null }
          : r,
      ),
    });
    publishEvent(t.h.nc, subjects.events.delivery, DeliveryEvent, {
      id,
      recipient,
      state,
      deliveries: n,
      at,
    });
  };
  /** What the broker does with a new message: store it, announce it once. */
  const post = (m: StoredMessage) => {
    store.set(m.id, m);
    const ann = { id: m.id, from: m.from, to: m.to, sent_at: m.sent_at, preview: m.body };
    if (m.to === "*") {
      publishEvent(t.h.nc, subjects.broadcast, BroadcastAnnouncement, {
        ...ann,
        recipients: m.receipts.map((r) => r.recipient),
      });
    } else {
      publishEvent(t.h.nc, subjects.inbox(m.to), InboxAnnouncement, ann);
    }
  };
  /** The receipt line of `recipient` in the flow's message `id`. */
  const receiptOf = (id: number, recipient: string) =>
    t.page.locator(`#flow li[data-id="${id}"] .receipt[data-recipient="${recipient}"]`).first();

  it("sends to every agent (*) from the dashboard's form", async () => {
    await t.page.goto(`${t.url}/?token=${TOKEN}`);
    await t.page.locator('#send-to option[value="*"]').waitFor({ state: "attached" });
    await t.page.selectOption("#send-to", "*");
    await t.page.fill("#send-body", "release freeze from now");
    await t.page.click("#send-button");
    await t.page.locator("#send-status", { hasText: "sent #100 to every agent" }).waitFor();
    assert.deepEqual(
      send.seen.map(({ req }) => [req.to, req.body, req.in_reply_to]),
      [["*", "release freeze from now", undefined]],
    );
  });

  it("replies from the inbox: to the sender, in reply to the message", async () => {
    const carol = t.page.locator('#inbox li[data-id="4"]');
    await carol.waitFor();
    assert.equal(
      await t.page.locator('#inbox li[data-id="6"] button.reply').count(),
      0,
      "system cannot be written to",
    );
    await carol.locator("button.reply").click();
    assert.equal(await t.page.inputValue("#send-to"), "carol");
    assert.match(
      (await t.page.locator("#send-reply-to").textContent()) ?? "",
      /in reply to #4 from carol: “the build is green”/,
    );
    assert.equal(
      await t.page.locator("#send-body").evaluate((e) => e.ownerDocument.activeElement === e),
      true,
      "the form takes the focus",
    );
    await t.page.fill("#send-body", "great, ship it");
    await t.page.click("#send-button");
    await t.page.locator("#send-status", { hasText: "sent #101 to carol" }).waitFor();
    assert.deepEqual(send.seen[1]?.req.to, "carol");
    assert.deepEqual(send.seen[1]?.req.in_reply_to, 4);
    assert.equal(await t.page.locator("#send-reply-to").count(), 0, "the reply is done");

    // A reply can be turned back into a plain message before it is sent.
    await carol.locator("button.reply").click();
    await t.page.click("#send-reply-clear");
    await t.page.fill("#send-body", "and another thing");
    await t.page.click("#send-button");
    await t.page.locator("#send-status", { hasText: "sent #102 to carol" }).waitFor();
    assert.equal(send.seen[2]?.req.in_reply_to, undefined);
  });

  it("folds threads by in_reply_to and shows a broadcast once, acked by N of M", async () => {
    await t.page.click("#nav-flow");
    await t.page.waitForURL(`${t.url}/flow`);
    await t.page.locator('#flow li[data-id="5"]').waitFor();
    assert.deepEqual(history.seen.at(-1)?.req, { limit: 100 });
    // Threads, latest activity first: 1 (with 2, then 5 under 2), 6, 4, 3.
    assert.deepEqual(await dataIds(t.page, "#flow > li"), ["6", "1", "4", "3"]);
    assert.deepEqual(await dataIds(t.page, '#flow > li[data-id="1"] > details.thread > ol > li'), [
      "2",
    ]);
    assert.deepEqual(
      await dataIds(t.page, '#flow li[data-id="2"] > details.thread > ol > li'),
      ["5"],
      "a reply nests under what it answers",
    );
    assert.equal(
      await t.page.locator('#flow > li[data-id="1"] > details.thread > summary').textContent(),
      "1 reply",
    );

    // Every mailbox links to its mail; `system` has none.
    assert.deepEqual(
      await t.page.locator("#flow-filter a").evaluateAll((els) => els.map((e) => e.textContent)),
      ["all", "alice", "bob", "carol", "manager", "operator"],
    );
    assert.equal(await t.page.locator('#flow li[data-id="6"] a.from').count(), 0);
    assert.equal(await t.page.locator('#flow li[data-id="6"] span.from').textContent(), "system");

    const b = t.page.locator('#flow li[data-id="3"]');
    assert.equal(await t.page.locator('#flow li[data-id="3"]').count(), 1, "a broadcast, once");
    assert.equal(await b.locator(".to").textContent(), "everyone (*)");
    assert.equal(await b.locator(".ack-count").textContent(), "acked by 1 of 3");
    assert.equal(await receiptOf(3, "bob").isVisible(), false, "folded until asked");
    await b.locator("details.receipts > summary").click();
    assert.deepEqual(await receiptStates(b), [
      ["alice", "acked"],
      ["bob", "queued"],
      ["carol", "queued"],
    ]);
    assert.equal(await receiptOf(4, "operator").getAttribute("data-state"), "queued");
    await t.page.screenshot({ path: "/tmp/hive-flow.png", fullPage: true });
  });

  it("keeps delivery states live: leased, acked, redelivered; the broadcast's count moves", async () => {
    const count = t.page.locator('#flow li[data-id="3"] .ack-count');
    deliver(3, "bob", "leased");
    await t.page
      .locator('#flow li[data-id="3"] .receipt[data-recipient="bob"][data-state="leased"]')
      .waitFor();
    deliver(3, "bob", "acked");
    await t.page
      .locator('#flow li[data-id="3"] .ack-count', { hasText: "acked by 2 of 3" })
      .waitFor();
    // carol's harness dies mid-turn: the lease is released, the message comes round again.
    deliver(3, "carol", "leased", 1);
    deliver(3, "carol", "queued", 1);
    deliver(3, "carol", "leased", 2);
    const carol = receiptOf(3, "carol");
    await t.page
      .locator('#flow li[data-id="3"] .receipt[data-recipient="carol"][data-deliveries="2"]')
      .waitFor();
    assert.equal(await carol.locator(".redelivered").textContent(), "redelivered ×2");
    assert.match(
      (await t.page.locator('#flow li[data-id="3"] summary').textContent()) ?? "",
      /1 redelivered/,
    );
    assert.equal(await count.textContent(), "acked by 2 of 3");
    deliver(3, "carol", "acked", 2);
    await t.page
      .locator('#flow li[data-id="3"] .ack-count', { hasText: "acked by 3 of 3" })
      .waitFor();

    deliver(4, "operator", "acked");
    await t.page.locator('#flow li[data-id="4"] .receipt[data-state="acked"]').waitFor();
  });

  it("shows new messages live: a reply nested under what it answers, a new broadcast once", async () => {
    post(
      message(7, "bob", "alice", "parser merged", {
        in_reply_to: 5,
        reply_to: { id: 5, from: "alice", quote: "lexer done" },
      }),
    );
    await t.page.locator('#flow li[data-id="5"] > details.thread li[data-id="7"]').waitFor();
    assert.equal(
      (await dataIds(t.page, "#flow > li"))[0],
      "1",
      "the thread with the latest reply comes first",
    );
    post(
      message(8, "manager", "*", "all hands at noon", {
        receipts: AGENTS.map((r) => receipt(r)),
      }),
    );
    const b = t.page.locator('#flow > li[data-id="8"]');
    await b.waitFor();
    assert.equal(await b.locator(".ack-count").textContent(), "acked by 0 of 3");
    deliver(8, "alice", "leased");
    deliver(8, "alice", "acked");
    await t.page
      .locator('#flow li[data-id="8"] .ack-count', { hasText: "acked by 1 of 3" })
      .waitFor();
    await waitUntil(async () => (await t.page.locator('#flow li[data-id="8"]').count()) === 1, {
      what: "the broadcast to be shown once",
    });
  });

  it("shows one recipient's mail with ?agent=, and loads older pages on demand", async () => {
    // Enough of carol's mail for a second page (the flow loads 100 at first).
    for (let id = 10; id < 115; id++) {
      store.set(id, message(id, "carol", "alice", `note ${id}`));
    }
    await t.page.goto(`${t.url}/flow?agent=carol`);
    await t.page.locator('#flow li[data-id="114"]').waitFor();
    assert.deepEqual(history.seen.at(-1)?.req, { agent: "carol", limit: 100 });
    assert.equal(
      await t.page.locator('#flow-filter a[aria-current="page"]').textContent(),
      "carol",
    );
    assert.equal(await t.page.locator('#flow li[data-id="1"]').count(), 0, "not carol's");
    assert.equal(await t.page.locator("#flow > li").count(), 100);
    await t.page.click("#flow-older");
    await t.page.locator('#flow li[data-id="4"]').waitFor();
    assert.deepEqual(history.seen.at(-1)?.req, { agent: "carol", before_id: 15, limit: 100 });
    assert.deepEqual(
      (await dataIds(t.page, "#flow > li")).slice(-6),
      ["12", "11", "10", "8", "4", "3"],
      "older ones below, the broadcasts carol got among them",
    );
    assert.equal(await t.page.locator("#flow-older").count(), 0, "nothing older");
  });
});
