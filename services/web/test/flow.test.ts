import assert from "node:assert/strict";
import {
  BroadcastAnnouncement,
  DeliveryEvent,
  type HistoryRequest,
  InboxAnnouncement,
  publishEvent,
  rpcs,
  type StoredMessage,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { FlowEvents, streams } from "../src/wire.js";
import { message } from "./fixtures.js";
import { harnessScope, noInterest, type Recorder, record } from "./helpers.js";
import { SseClient } from "./sse-client.js";

/** The broker's announcement of a stored message on `hive.inbox.<to>` (or `hive.broadcast`). */
function announce(m: StoredMessage) {
  return { id: m.id, from: m.from, to: m.to, sent_at: m.sent_at, preview: m.body.slice(0, 120) };
}

describe("/api/flow: the message flow stream (the broker stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });

  /**
   * The broker's history over `store` (newest first, every filter the flow uses); `before` runs
   * before each answer (to publish something while the cold load is in flight).
   */
  const broker = async (
    store: StoredMessage[],
    before: (req: HistoryRequest) => void = () => {},
  ): Promise<Recorder<HistoryRequest>> =>
    t.keep(
      record(t.h.nc, subjects.op.history, rpcs.opHistory, async (req) => {
        before(req);
        await t.h.nc.flush();
        const a = req.agent;
        const messages = store
          .filter((m) => req.before_id === undefined || m.id < req.before_id)
          .filter(
            (m) => a === undefined || m.from === a || m.receipts.some((r) => r.recipient === a),
          )
          .sort((x, y) => y.id - x.id)
          .slice(0, req.limit ?? 50);
        return { messages, next_before_id: null };
      }),
    );

  /** The broker's word that `recipient`'s copy of `id` was leased (its first delivery). */
  const leased = (id: number, recipient: string) =>
    publishEvent(t.h.nc, subjects.events.delivery, DeliveryEvent, {
      id,
      recipient,
      state: "leased",
      deliveries: 1,
      at: Date.now(),
    });

  const open = async (agent?: string) => {
    const url = await t.h.listen();
    return SseClient.open(`${url}${streams.flow.url(agent)}`);
  };

  it("sends the newest history, then each new message whole (unicast and broadcast) and its delivery changes, in order", async () => {
    const first = message(11, "alice", "bob", "plan?");
    const store = [first];
    const history = await broker(store);
    const sse = await open();
    const snap = await sse.take(FlowEvents, "snapshot");
    assert.deepEqual(snap.messages, [first]);
    assert.equal(snap.error, null);
    assert.deepEqual(history.seen[0]?.req, { limit: 100 });

    const reply = message(12, "bob", "alice", `yes. ${"details ".repeat(30)}`, {
      in_reply_to: 11,
      reply_to: { id: 11, from: "alice", quote: "plan?" },
    });
    const all = message(13, "manager", "*", "standup", { recipients: ["alice", "bob"] });
    store.push(reply, all);
    publishEvent(t.h.nc, subjects.inbox("alice"), InboxAnnouncement, announce(reply));
    leased(12, "alice");
    publishEvent(t.h.nc, subjects.broadcast, BroadcastAnnouncement, {
      ...announce(all),
      recipients: ["alice", "bob"],
    });
    // A broadcast that also woke an agent's inbox is not a second message.
    publishEvent(t.h.nc, subjects.inbox("bob"), InboxAnnouncement, announce(all));
    const acked: DeliveryEvent = {
      id: 13,
      recipient: "bob",
      state: "acked",
      deliveries: 1,
      at: Date.now(),
    };
    publishEvent(t.h.nc, subjects.events.delivery, DeliveryEvent, acked);

    assert.deepEqual(await sse.take(FlowEvents, "message"), reply, "the body whole, not a preview");
    assert.equal((await sse.take(FlowEvents, "delivery")).id, 12);
    const b = await sse.take(FlowEvents, "message");
    assert.deepEqual([b.id, b.to, b.receipts.map((r) => r.recipient)], [13, "*", ["alice", "bob"]]);
    assert.deepEqual(await sse.take(FlowEvents, "delivery"), acked);
    await t.h.nc.flush();
    assert.equal(sse.events.length, 5, "nothing more: the broadcast came once");
    await sse.close();
    await waitUntil(() => t.h.app.sseHub.size === 0, { what: "the stream to go" });
    for (const subject of ["hive.inbox.alice", subjects.broadcast, subjects.events.delivery]) {
      await waitUntil(() => noInterest(t.h, subject), { what: `no one on ${subject}` });
    }
  });

  it("holds back what arrives during the cold load until the snapshot has gone", async () => {
    const early = message(21, "alice", "bob", "raced the load");
    const store: StoredMessage[] = [];
    // The message is stored and announced, and a delivery event published, while the snapshot
    // is being loaded: the snapshot still goes first.
    await broker(store, (req) => {
      if (req.limit !== 100 || store.length > 0) return;
      store.push(early);
      publishEvent(t.h.nc, subjects.inbox("bob"), InboxAnnouncement, announce(early));
      leased(21, "bob");
    });
    const sse = await open();
    assert.equal((await sse.take(FlowEvents, "snapshot")).messages?.length, 1);
    assert.deepEqual(await sse.take(FlowEvents, "message"), early);
    assert.equal((await sse.take(FlowEvents, "delivery")).id, 21);
    await sse.close();
  });

  it("with ?agent= loads and announces only that one's mail (sent, received, broadcasts to it)", async () => {
    const store = [
      message(31, "alice", "bob", "to bob"),
      message(32, "carol", "bob", "not alice's"),
    ];
    const history = await broker(store);
    const sse = await open("alice");
    const snap = await sse.take(FlowEvents, "snapshot");
    assert.deepEqual(history.seen[0]?.req, { agent: "alice", limit: 100 });
    assert.deepEqual(
      snap.messages?.map((m) => m.id),
      [31],
    );
    const others = message(33, "carol", "bob", "still not alice's");
    const hers = message(34, "bob", "alice", "for alice");
    const all = message(35, "carol", "*", "everyone", { recipients: ["alice", "bob"] });
    const notHers = message(36, "alice", "*", "from alice", { recipients: ["bob", "carol"] });
    const elsewhere = message(37, "bob", "*", "not to alice", { recipients: ["carol"] });
    store.push(others, hers, all, notHers, elsewhere);
    publishEvent(t.h.nc, subjects.inbox("bob"), InboxAnnouncement, announce(others));
    publishEvent(t.h.nc, subjects.inbox("alice"), InboxAnnouncement, announce(hers));
    for (const [m, recipients] of [
      [all, ["alice", "bob"]],
      [notHers, ["bob", "carol"]],
      [elsewhere, ["carol"]],
    ] as const) {
      publishEvent(t.h.nc, subjects.broadcast, BroadcastAnnouncement, {
        ...announce(m),
        recipients: [...recipients],
      });
    }
    assert.equal((await sse.take(FlowEvents, "message")).id, 34);
    assert.equal((await sse.take(FlowEvents, "message")).id, 35);
    assert.equal((await sse.take(FlowEvents, "message")).id, 36, "sent by alice");
    await t.h.nc.flush();
    assert.equal(sse.events.length, 4, "nothing of the others' mail");

    // Receipts: of what the stream showed (31 in the snapshot, 36 live), and alice's own copies.
    leased(32, "bob");
    leased(31, "bob");
    leased(37, "carol");
    leased(36, "carol");
    leased(99, "alice");
    const deliveries = [];
    for (let i = 0; i < 3; i++) deliveries.push(await sse.take(FlowEvents, "delivery"));
    assert.deepEqual(
      deliveries.map((d) => [d.id, d.recipient]),
      [
        [31, "bob"],
        [36, "carol"],
        [99, "alice"],
      ],
    );
    await t.h.nc.flush();
    assert.equal(sse.events.length, 7, "none of the others' receipts");
    await sse.close();
  });

  it("drops malformed and mismatched announcements; without the broker says why and sends messages as announced", async () => {
    const sse = await open();
    const snap = await sse.take(FlowEvents, "snapshot");
    assert.equal(snap.messages, null);
    assert.equal(snap.error?.code, "unavailable");

    const m = message(41, "alice", "bob", "as announced");
    // Not JSON; a bad field; an inbox whose subject names another recipient.
    t.h.nc.publish(subjects.inbox("bob"), "{nope");
    t.h.nc.publish(subjects.broadcast, JSON.stringify({ ...announce(m), to: "*" }));
    t.h.nc.publish(subjects.events.delivery, JSON.stringify({ id: 41, recipient: "bob" }));
    publishEvent(t.h.nc, subjects.inbox("carol"), InboxAnnouncement, announce(m));
    publishEvent(t.h.nc, subjects.inbox("bob"), InboxAnnouncement, announce(m));
    const got = await sse.take(FlowEvents, "message");
    assert.deepEqual(
      [got.id, got.body, got.receipts],
      [41, "as announced", [{ recipient: "bob", state: "queued", deliveries: 0, acked_at: null }]],
    );
    await t.h.nc.flush();
    assert.equal(sse.events.length, 2);
    await sse.close();
  });

  it("refuses a bad ?agent= with a 400 before subscribing to anything", async () => {
    const url = await t.h.listen();
    for (const q of ["?agent=NOT_OK", "?agent=*", "?agent=alice&x=1"]) {
      const sse = await SseClient.open(`${url}/api/flow${q}`);
      assert.equal(sse.status, 400, q);
    }
    assert.equal(t.h.app.sseHub.size, 0);
  });
});
