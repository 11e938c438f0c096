import assert from "node:assert/strict";
import {
  type DeliveryEvent,
  type HistoryRequest,
  type HistoryResponse,
  HiveError,
  type InboxAnnouncement,
  type StoredMessage,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { FlowFeed, type FlowOut, LOOKUP_LIMIT } from "../src/flow-feed.js";
import { message } from "./fixtures.js";
import { type Deferred, deferred, testLog } from "./helpers.js";

/** The announcement the broker makes of `m`. */
const announce = (m: StoredMessage): InboxAnnouncement => ({
  id: m.id,
  from: m.from,
  to: m.to,
  sent_at: m.sent_at,
  preview: m.body.slice(0, 120),
});

const delivery = (id: number, recipient: string, over: Partial<DeliveryEvent> = {}) =>
  ({ id, recipient, state: "leased", deliveries: 1, at: Date.now(), ...over }) as const;

/** What the feed sent, in short: `message #id` / `delivery #id recipient state`. */
const said = (out: readonly FlowOut[]) =>
  out.map((o) =>
    o.event === "message"
      ? `message #${o.data.id}`
      : `delivery #${o.data.id} ${o.data.recipient} ${o.data.state}`,
  );

/**
 * A feed over a stand-in history: every lookup waits until the test answers it (from `stored`,
 * paged as the broker pages: newest first below `before_id`), or fails.
 */
function feed(stored: readonly StoredMessage[]) {
  const out: FlowOut[] = [];
  const lookups: Array<{ req: HistoryRequest; answer: Deferred<void>; fail?: unknown }> = [];
  const page = (req: HistoryRequest): HistoryResponse => {
    const below = stored
      .filter((m) => req.before_id === undefined || m.id < req.before_id)
      .sort((a, b) => b.id - a.id);
    const limit = req.limit ?? 50;
    const messages = below.slice(0, limit);
    return {
      messages,
      next_before_id: below.length > limit ? (messages.at(-1)?.id ?? null) : null,
    };
  };
  const f = new FlowFeed({
    history: async (req) => {
      const l = { req, answer: deferred<void>() };
      lookups.push(l);
      await l.answer.promise;
      return page(req);
    },
    emit: (o) => out.push(o),
    log: testLog(),
  });
  return { f, out, lookups };
}

describe("FlowFeed", () => {
  const m5 = message(5, "alice", "bob", "the whole body of five, longer than its preview would be");
  const m6 = message(6, "bob", "alice", "six", { in_reply_to: 5 });

  it("sends nothing before start, then never a delivery before the message it changes", async () => {
    const { f, out, lookups } = feed([m5, m6]);
    f.message(announce(m5), ["bob"]);
    f.delivery(delivery(5, "bob"));
    assert.equal(lookups.length, 0, "nothing looked up before the snapshot went out");
    f.start();
    await waitUntil(() => lookups.length === 1, { what: "the lookup of #5" });
    // A delivery arriving while its message is being looked up waits behind it.
    f.delivery(delivery(5, "bob", { state: "acked" }));
    assert.deepEqual(out, [], "the delivery waits for its message");
    lookups[0]?.answer.resolve();
    await waitUntil(() => out.length === 3, { what: "the three events" });
    assert.deepEqual(said(out), ["message #5", "delivery #5 bob leased", "delivery #5 bob acked"]);
    assert.deepEqual(out[0], { event: "message", data: m5 }, "the stored message, body whole");
  });

  it("looks up announcements that arrive together in one request, in the order they came", async () => {
    const more = [7, 8, 9].map((id) => message(id, "carol", "alice", `m${id}`));
    const { f, out, lookups } = feed([m5, m6, ...more]);
    f.start();
    f.message(announce(m5), ["bob"]);
    await waitUntil(() => lookups.length === 1, { what: "the first lookup" });
    // While #5 is looked up, four more arrive: one lookup for all of them.
    f.message(announce(m6), ["alice"]);
    f.delivery(delivery(5, "bob"));
    for (const m of more) f.message(announce(m), ["alice"]);
    lookups[0]?.answer.resolve();
    await waitUntil(() => lookups.length === 2, { what: "the second lookup" });
    lookups[1]?.answer.resolve();
    await waitUntil(() => out.length === 6, { what: "every event" });
    assert.deepEqual(
      lookups.map((l) => l.req),
      [
        { before_id: 6, limit: 1 },
        { before_id: 10, limit: 4 },
      ],
    );
    assert.deepEqual(said(out), [
      "message #5",
      "message #6",
      "delivery #5 bob leased",
      "message #7",
      "message #8",
      "message #9",
    ]);
    assert.equal(out[1]?.event === "message" && out[1].data.in_reply_to, 5, "reply context kept");
  });

  it("pages down to the oldest of a batch whose ids lie far apart", async () => {
    const far = message(LOOKUP_LIMIT + 20, "bob", "alice", "far newer");
    const filler = Array.from({ length: LOOKUP_LIMIT + 10 }, (_, i) =>
      message(i + 6, "x", "alice", "filler"),
    );
    const { f, out, lookups } = feed([m5, ...filler, far]);
    f.message(announce(far), ["alice"]);
    f.message(announce(m5), ["bob"]);
    f.start();
    await waitUntil(() => lookups.length === 1, { what: "the first page" });
    lookups[0]?.answer.resolve();
    await waitUntil(() => lookups.length === 2, { what: "the second page" });
    lookups[1]?.answer.resolve();
    await waitUntil(() => out.length === 2, { what: "both messages" });
    assert.deepEqual(lookups[0]?.req, { before_id: LOOKUP_LIMIT + 21, limit: LOOKUP_LIMIT });
    // The first page ends at #17 (#520, then #515 down): the second goes on below it, to #5.
    assert.deepEqual(lookups[1]?.req, { before_id: 17, limit: 12 });
    assert.deepEqual(
      out.map((o) => o.event === "message" && o.data.body),
      ["far newer", m5.body],
      "both as stored, none as announced",
    );
  });

  it("sends a message as announced when its lookup fails, and carries on", async () => {
    const all = message(7, "manager", "*", "standup in five minutes", {
      recipients: ["alice", "bob"],
    });
    const { f, out, lookups } = feed([m5, all]);
    f.start();
    f.message({ ...announce(all), preview: "standup in…" }, ["alice", "bob"]);
    await waitUntil(() => lookups.length === 1, { what: "the lookup" });
    lookups[0]?.answer.reject(new HiveError("unavailable", "no service answers hive.op.history"));
    await waitUntil(() => out.length === 1, { what: "the message as announced" });
    assert.deepEqual(out[0], {
      event: "message",
      data: {
        id: 7,
        from: "manager",
        to: "*",
        body: "standup in…",
        sent_at: all.sent_at,
        in_reply_to: null,
        reply_to: null,
        acked_at: null,
        receipts: [
          { recipient: "alice", state: "queued", deliveries: 0, acked_at: null },
          { recipient: "bob", state: "queued", deliveries: 0, acked_at: null },
        ],
      },
    });
    f.message(announce(m5), ["bob"]);
    await waitUntil(() => lookups.length === 2, { what: "the next lookup" });
    lookups[1]?.answer.resolve();
    await waitUntil(() => out.length === 2, { what: "the next message" });
    assert.deepEqual(out[1], { event: "message", data: m5 }, "the next lookup is used again");
  });

  it("sends nothing more once stopped, not even what it was looking up", async () => {
    const { f, out, lookups } = feed([m5]);
    f.start();
    f.message(announce(m5), ["bob"]);
    await waitUntil(() => lookups.length === 1, { what: "the lookup" });
    f.stop();
    f.delivery(delivery(5, "bob"));
    lookups[0]?.answer.resolve();
    await f.idle();
    assert.deepEqual(out, []);
    assert.equal(lookups.length, 1);
  });
});
