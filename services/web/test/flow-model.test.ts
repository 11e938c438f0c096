import assert from "node:assert/strict";
import type { DeliveryEvent, StoredMessage } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { applyDelivery, type FlowNode, foldThreads, tally } from "../src/flow-model.js";
import { message, receipt } from "./fixtures.js";

const ev = (over: Partial<DeliveryEvent> & Pick<DeliveryEvent, "state">): DeliveryEvent => ({
  id: 7,
  recipient: "alice",
  deliveries: 1,
  at: 1000,
  ...over,
});

/** A folded flow as `id(reply, reply(…))`, roots in order. */
const shape = (nodes: readonly FlowNode[]): string =>
  nodes
    .map((n) => `${n.message.id}${n.replies.length > 0 ? `(${shape(n.replies)})` : ""}`)
    .join(" ");

describe("the flow's model", () => {
  const all = message(7, "manager", "*", "standup", { recipients: ["alice", "bob", "carol"] });

  it("applies delivery changes to the recipient's receipt and tallies a broadcast", () => {
    let m: StoredMessage = all;
    assert.deepEqual(tally(m), { acked: 0, total: 3, redelivered: 0 });
    m = applyDelivery(m, ev({ state: "leased" }));
    m = applyDelivery(m, ev({ state: "acked", at: 2000 }));
    m = applyDelivery(m, ev({ recipient: "bob", state: "leased" }));
    m = applyDelivery(m, ev({ recipient: "bob", state: "queued" }));
    m = applyDelivery(m, ev({ recipient: "bob", state: "leased", deliveries: 2 }));
    assert.deepEqual(m.receipts, [
      receipt("alice", { state: "acked", deliveries: 1, acked_at: 2000 }),
      receipt("bob", { state: "leased", deliveries: 2 }),
      receipt("carol"),
    ]);
    assert.deepEqual(tally(m), { acked: 1, total: 3, redelivered: 1 });
    assert.equal(m.acked_at, null, "not every recipient has acked");
    m = applyDelivery(m, ev({ recipient: "bob", state: "acked", deliveries: 2, at: 3000 }));
    m = applyDelivery(m, ev({ recipient: "carol", state: "leased" }));
    m = applyDelivery(m, ev({ recipient: "carol", state: "acked", at: 2500 }));
    assert.equal(m.acked_at, 3000, "done when the last receipt is acked: the latest ack");
    assert.deepEqual(tally(m), { acked: 3, total: 3, redelivered: 1 });
  });

  it("never moves a receipt back: stale events, other messages and strangers change nothing", () => {
    const leased2 = applyDelivery(all, ev({ state: "leased", deliveries: 2 }));
    const acked = applyDelivery(leased2, ev({ state: "acked", deliveries: 2 }));
    for (const [from, stale] of [
      [leased2, ev({ state: "leased", deliveries: 1 })],
      [leased2, ev({ state: "queued", deliveries: 1 })],
      [leased2, ev({ state: "leased", deliveries: 2 })],
      [acked, ev({ state: "leased", deliveries: 3 })],
      [acked, ev({ state: "queued", deliveries: 2 })],
      [all, ev({ state: "queued", deliveries: 0 })],
      [all, ev({ id: 8, state: "acked" })],
      [all, ev({ recipient: "zed", state: "acked" })],
    ] as const) {
      assert.equal(applyDelivery(from, stale), from, JSON.stringify(stale));
    }
  });

  it("folds replies under what they answer, latest activity first, and keeps orphans as threads", () => {
    const flow = [
      message(1, "alice", "bob", "plan?"),
      message(2, "carol", "operator", "hello"),
      message(3, "bob", "alice", "yes", { in_reply_to: 1 }),
      message(4, "alice", "bob", "go", { in_reply_to: 3 }),
      message(5, "manager", "*", "standup", { recipients: ["alice"] }),
      message(6, "carol", "alice", "re plan", { in_reply_to: 1 }),
      // Answers a message not loaded (older, swept, or not the viewer's): a thread of its own.
      message(8, "bob", "carol", "old news", { in_reply_to: 99 }),
      // A reply to a later id cannot be: it is not nested (no cycles).
      message(9, "zed", "alice", "odd", { in_reply_to: 10 }),
      message(10, "alice", "zed", "odd too", { in_reply_to: 9 }),
    ];
    assert.equal(shape(foldThreads(flow)), "9(10) 8 1(3(4) 6) 5 2");
    assert.deepEqual(
      foldThreads(flow).map((n) => n.latest),
      [10, 8, 6, 5, 2],
    );
    assert.deepEqual(foldThreads([]), []);
  });
});
