import assert from "node:assert/strict";
import {
  BroadcastAnnouncement,
  DeliveryEvent,
  type DeliveryEvent as DeliveryEventT,
  type HistoryRequest,
  parseEvent,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { waitUntil, withTimeout } from "@hyperhive/shared/testing";
import type { Subscription } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { AGENTS, type Harness, publishRoster, startHarness } from "./helpers.js";

const send = (
  h: Harness,
  as: string,
  to: string,
  body: string,
  extra: { client_id?: string; in_reply_to?: number } = {},
) => {
  const subject =
    as === "operator"
      ? subjects.op.send
      : as === "system"
        ? subjects.sys.send
        : subjects.agent.send(as);
  return request(h.nc, subject, rpcs.send, { to, body, ...extra });
};
const recv = (h: Harness, as: string, wait_seconds = 0, lease_seconds?: number) =>
  request(
    h.nc,
    subjects.agent.recv(as),
    rpcs.recv,
    { wait_seconds, ...(lease_seconds === undefined ? {} : { lease_seconds }) },
    { timeoutMs: (wait_seconds + 5) * 1000 },
  );
const batch = (h: Harness, as: string, max: number, wait_seconds = 0) =>
  request(
    h.nc,
    subjects.agent.recvBatch(as),
    rpcs.recvBatch,
    { max, wait_seconds },
    { timeoutMs: (wait_seconds + 5) * 1000 },
  );
const ack = (h: Harness, as: string, id: number) =>
  request(h.nc, subjects.agent.ack(as), rpcs.ack, { id });
const history = (h: Harness, req: HistoryRequest = {}) =>
  request(h.nc, subjects.op.history, rpcs.opHistory, req);

/** Collects the parsed events of a subject from now on. */
async function collect<T>(
  h: Harness,
  subject: string,
  parse: (m: Parameters<typeof parseEvent>[1]) => T | null,
): Promise<{ seen: T[]; sub: Subscription }> {
  const sub = h.nc.subscribe(subject);
  const seen: T[] = [];
  void (async () => {
    for await (const m of sub) {
      const ev = parse(m);
      if (ev) seen.push(ev);
    }
  })();
  await h.nc.flush();
  return { seen, sub };
}

describe("broadcast, recv_batch, replies, history, delivery events", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.db.exec("DELETE FROM messages");
  });

  it("a broadcast is one row, a receipt for every agent but the sender, announced once", async () => {
    const { seen, sub } = await collect(h, subjects.broadcast, (m) =>
      parseEvent(BroadcastAnnouncement, m),
    );
    const inboxes = await collect(h, subjects.inbox("*"), (m) => m.subject);
    const sent = await send(h, "alice", "*", "standup in five");
    await waitUntil(() => seen.length === 1, { what: "the broadcast announcement" });
    const others = AGENTS.filter((a) => a !== "alice");
    assert.deepEqual(seen[0], {
      id: sent.id,
      from: "alice",
      to: "*",
      sent_at: sent.sent_at,
      preview: "standup in five",
      recipients: others,
    });
    assert.deepEqual(inboxes.seen, [], "no per-agent announcement");
    const rows = h.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    assert.equal(rows.n, 1);
    const receipts = h.db
      .prepare("SELECT recipient FROM receipts WHERE message_id = ? ORDER BY recipient")
      .all(sent.id)
      .map((r) => (r as { recipient: string }).recipient);
    assert.deepEqual(receipts, others);

    // Every recipient leases it like any other mail, marked as a broadcast by its `to`.
    for (const a of others) {
      const got = await recv(h, a);
      assert.equal(got.message?.id, sent.id, a);
      assert.equal(got.message?.to, "*");
      assert.equal(got.message?.from, "alice");
      assert.equal(got.message?.delivery, 1);
    }
    assert.deepEqual(await recv(h, "alice"), { message: null, pending: 0 }, "not the sender");
    // Done only once the last recipient acked it.
    for (const a of others.slice(0, -1)) await ack(h, a, sent.id);
    let stored = (await history(h, { thread: sent.id })).messages[0];
    assert.equal(stored?.acked_at, null);
    assert.equal(stored?.receipts.filter((r) => r.state === "acked").length, others.length - 1);
    await ack(h, others.at(-1)!, sent.id);
    stored = (await history(h, { thread: sent.id })).messages[0];
    assert.ok(stored?.acked_at);
    assert.ok(stored.receipts.every((r) => r.state === "acked" && r.deliveries === 1));
    sub.unsubscribe();
    inboxes.sub.unsubscribe();
  });

  it("a broadcast's receipt is at-least-once: an expired lease comes again, redelivered", async () => {
    const sent = await send(h, "operator", "*", "all hands");
    const first = await recv(h, "bob", 0, 5);
    assert.equal(first.message?.id, sent.id);
    await h.clock.advance(5_000);
    const again = await recv(h, "bob");
    assert.equal(again.message?.id, sent.id);
    assert.equal(again.message?.redelivered, true);
    assert.equal(again.message?.delivery, 2);
    // The operator's broadcast went to every agent; the others' receipts are untouched.
    const stored = (await history(h, { thread: sent.id })).messages[0];
    assert.equal(stored?.receipts.length, AGENTS.length);
    assert.equal(stored?.receipts.find((r) => r.recipient === "carol")?.deliveries, 0);
  });

  it("a broadcast reaches a parked recv at once, and an agent that asks later", async () => {
    const parked = recv(h, "carol", 30);
    await waitUntil(() => h.broker.waiting("carol") === 1, { what: "carol to park" });
    const sent = await send(h, "system", "*", "the hive restarts at noon");
    const got = await withTimeout(parked, 2000, "carol's parked recv");
    assert.equal(got.message?.id, sent.id);
    // dave was not polling (stopped) when it was sent: it is waiting for him when he asks.
    assert.equal((await recv(h, "dave")).message?.id, sent.id);
  });

  it("a broadcast goes to the roster of the moment of its send", async () => {
    await publishRoster(h.nc, h.broker, [...AGENTS, "erin"], Date.now() + 1000);
    const sent = await send(h, "alice", "*", "erin is here");
    assert.equal((await recv(h, "erin")).message?.id, sent.id);
    await publishRoster(h.nc, h.broker, AGENTS, Date.now() + 2000);
    await waitUntil(() => !h.broker.roster?.has("erin"), { what: "erin to leave the roster" });
    const later = await send(h, "alice", "*", "erin is gone");
    const stored = (await history(h, { thread: later.id })).messages[0];
    assert.ok(!stored?.receipts.some((r) => r.recipient === "erin"));
  });

  it("an agent that leaves the roster has its unread mail dropped; a new one of its name starts empty", async () => {
    await publishRoster(h.nc, h.broker, [...AGENTS, "erin"], Date.now() + 3000);
    const direct = await send(h, "alice", "erin", "for erin only");
    const bcast = await send(h, "alice", "*", "to everyone");
    // erin took the direct message and never acked it; the broadcast she never took.
    assert.equal((await recv(h, "erin")).message?.id, direct.id);
    await publishRoster(h.nc, h.broker, AGENTS, Date.now() + 4000);
    await waitUntil(
      async () => (await history(h, { thread: direct.id })).messages[0]?.receipts.length === 0,
      { what: "erin's receipts to be dropped" },
    );
    const d = (await history(h, { thread: direct.id })).messages[0];
    assert.ok(d?.acked_at, "the direct message is done: nobody is left to read it");
    const b = (await history(h, { thread: bcast.id })).messages[0];
    assert.ok(!b?.receipts.some((r) => r.recipient === "erin"));
    assert.equal(b?.receipts.length, AGENTS.length - 1);
    assert.equal(b?.acked_at, null, "the others have not acked the broadcast yet");
    // A new erin (after a purge) does not inherit the old one's mail.
    await publishRoster(h.nc, h.broker, [...AGENTS, "erin"], Date.now() + 5000);
    assert.deepEqual(await recv(h, "erin"), { message: null, pending: 0 });
  });

  it("recv_batch leases up to max, oldest first, broadcasts included, and counts the rest", async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await send(h, "alice", "bob", `m${i}`)).id);
    ids.push((await send(h, "carol", "*", "everyone")).id);
    const first = await batch(h, "bob", 3);
    assert.deepEqual(
      first.messages.map((m) => m.id),
      ids.slice(0, 3),
    );
    assert.equal(first.pending, 2);
    const rest = await batch(h, "bob", 50);
    assert.deepEqual(
      rest.messages.map((m) => [m.id, m.to]),
      [
        [ids[3], "bob"],
        [ids[4], "*"],
      ],
    );
    assert.equal(rest.pending, 0);
    assert.deepEqual(await batch(h, "bob", 5), { messages: [], pending: 0 });
    // Empty, it waits for the first message like recv.
    const waiting = batch(h, "bob", 5, 30);
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "recv_batch to park" });
    const late = await send(h, "alice", "bob", "late");
    const got = await withTimeout(waiting, 2000, "the parked recv_batch");
    assert.deepEqual(
      got.messages.map((m) => m.id),
      [late.id],
    );
  });

  it("in_reply_to is kept when the sender saw the message, dropped otherwise; recv quotes it", async () => {
    const q = await send(h, "alice", "bob", "what is the build status? ".repeat(5));
    const bcast = await send(h, "carol", "*", "who has the release notes?");
    const private_ = await send(h, "carol", "dave", "between carol and dave");
    // bob got q: his reply keeps it, with its quote.
    const a = await send(h, "bob", "alice", "green", { in_reply_to: q.id });
    // A broadcast bob received may be answered too; alice may name her own message.
    const b = await send(h, "bob", "carol", "I do", { in_reply_to: bcast.id });
    const c = await send(h, "alice", "bob", "thanks", { in_reply_to: q.id });
    // bob never saw carol's note to dave, and 999999 does not exist: both dropped, not refused.
    const d = await send(h, "bob", "dave", "nosy", { in_reply_to: private_.id });
    const e = await send(h, "bob", "dave", "ghost", { in_reply_to: 999_999 });
    const kept = new Map(
      (await history(h, { agent: "bob" })).messages.map((m) => [m.id, m.in_reply_to]),
    );
    assert.equal(kept.get(a.id), q.id);
    assert.equal(kept.get(b.id), bcast.id);
    assert.equal(kept.get(c.id), q.id);
    assert.equal(kept.get(d.id), null);
    assert.equal(kept.get(e.id), null);

    await ack(h, "alice", (await recv(h, "alice")).message!.id); // carol's broadcast
    const reply = (await recv(h, "alice")).message;
    assert.equal(reply?.id, a.id);
    assert.equal(reply?.in_reply_to, q.id);
    assert.deepEqual(reply?.reply_to, {
      id: q.id,
      from: "alice",
      quote: `${"what is the build status? ".repeat(5).slice(0, 79)}…`,
    });
  });

  it("history pages newest first, filtered by agent, thread and time, with receipts", async () => {
    const t0 = h.clock.now();
    const root = await send(h, "alice", "bob", "root");
    await h.clock.advance(1000);
    const r1 = await send(h, "bob", "alice", "reply 1", { in_reply_to: root.id });
    const other = await send(h, "carol", "dave", "unrelated");
    await h.clock.advance(1000);
    const r2 = await send(h, "alice", "bob", "reply 2", { in_reply_to: r1.id });
    const side = await send(h, "alice", "bob", "side branch", { in_reply_to: root.id });
    const all = await history(h);
    assert.deepEqual(
      all.messages.map((m) => m.id),
      [side.id, r2.id, other.id, r1.id, root.id],
    );
    assert.equal(all.next_before_id, null);
    // Paging: two at a time, the cursor leads on until there is no more.
    const p1 = await history(h, { limit: 2 });
    assert.deepEqual(
      p1.messages.map((m) => m.id),
      [side.id, r2.id],
    );
    assert.equal(p1.next_before_id, r2.id);
    const p2 = await history(h, { limit: 2, before_id: r2.id });
    const p3 = await history(h, { limit: 2, before_id: p2.next_before_id! });
    assert.deepEqual(
      [...p2.messages, ...p3.messages].map((m) => m.id),
      [other.id, r1.id, root.id],
    );
    assert.equal(p3.next_before_id, null);
    // The thread, asked from any message in it: up to its root, then every reply down.
    for (const from of [root.id, r2.id, side.id]) {
      const thread = await history(h, { thread: from });
      assert.deepEqual(
        thread.messages.map((m) => m.id),
        [side.id, r2.id, r1.id, root.id],
        `thread of #${from}`,
      );
    }
    assert.deepEqual(
      (await history(h, { agent: "dave" })).messages.map((m) => m.id),
      [other.id],
    );
    const window = await history(h, { since: t0 + 1000, until: t0 + 2000 });
    assert.deepEqual(
      window.messages.map((m) => m.id),
      [other.id, r1.id],
    );
    // Receipts: queued, leased, acked, and what each reply answers.
    await recv(h, "bob", 0, 60); // root leased
    await ack(h, "alice", (await recv(h, "alice")).message!.id); // r1 acked
    const byId = new Map((await history(h)).messages.map((m) => [m.id, m]));
    assert.deepEqual(byId.get(root.id)?.receipts, [
      { recipient: "bob", state: "leased", deliveries: 1, acked_at: null },
    ]);
    assert.equal(byId.get(r1.id)?.receipts[0]?.state, "acked");
    assert.equal(byId.get(r2.id)?.receipts[0]?.state, "queued");
    assert.deepEqual(byId.get(r2.id)?.reply_to, { id: r1.id, from: "bob", quote: "reply 1" });
    // A lease that ran out is queued again.
    await h.clock.advance(60_000);
    const after = (await history(h, { thread: root.id })).messages.find((m) => m.id === root.id);
    assert.equal(after?.receipts[0]?.state, "queued");
  });

  it("publishes every receipt change on hive.events.delivery: leased, acked, queued on release", async () => {
    const { seen, sub } = await collect(h, subjects.events.delivery, (m) =>
      parseEvent(DeliveryEvent, m),
    );
    const one = await send(h, "alice", "bob", "one");
    const two = await send(h, "alice", "bob", "two");
    await recv(h, "bob", 0, 600);
    await ack(h, "bob", one.id);
    await recv(h, "bob", 0, 600);
    await request(h.nc, subjects.agent.release("bob"), rpcs.release, {});
    await waitUntil(() => seen.length === 4, { what: "four delivery events" });
    const short = (e: DeliveryEventT) => [e.id, e.recipient, e.state, e.deliveries];
    assert.deepEqual(seen.map(short), [
      [one.id, "bob", "leased", 1],
      [one.id, "bob", "acked", 1],
      [two.id, "bob", "leased", 1],
      [two.id, "bob", "queued", 1],
    ]);
    sub.unsubscribe();
  });

  it("a message wakes one parked recv, not all of them", async () => {
    const PARKED = 2000;
    const SENDS = 200;
    const polls = Array.from({ length: PARKED }, () => recv(h, "bob", 120));
    await waitUntil(() => h.broker.waiting("bob") === PARKED, {
      what: "every recv to park",
      timeoutMs: 20_000,
    });
    const before = h.broker.stats.leaseAttempts;
    for (let i = 0; i < SENDS; i++) await send(h, "alice", "bob", `m${i}`);
    await waitUntil(() => h.broker.waiting("bob") === PARKED - SENDS, {
      what: "one recv answered per message",
    });
    // One lease per message, plus at most one probe that finds nothing behind it.
    assert.ok(h.broker.stats.leaseAttempts - before <= 2 * SENDS);
    await h.clock.advance(120_001);
    const results = await Promise.all(polls);
    assert.equal(results.filter((r) => r.message !== null).length, SENDS);
  });

  it("sends that arrive together share a commit, and every reply follows its commit", async () => {
    const before = h.broker.stats;
    const sent = await Promise.all(
      Array.from({ length: 64 }, (_, i) => send(h, "alice", "bob", `burst ${i}`)),
    );
    const after = h.broker.stats;
    assert.equal(new Set(sent.map((s) => s.id)).size, 64);
    assert.ok(after.fsyncs - before.fsyncs < 64, `${after.fsyncs - before.fsyncs} fsyncs`);
    assert.ok(after.batches - before.batches < 64, `${after.batches - before.batches} batches`);
    const stored = h.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    assert.equal(stored.n, 64);
  });
});

describe("the retention sweep", () => {
  let h: Harness;
  const DAY = 24 * 3600 * 1000;
  beforeAll(async () => {
    h = await startHarness({ retention: { maxAgeMs: 7 * DAY, everyMs: DAY } });
  });
  afterAll(async () => {
    await h.close();
  });

  it("deletes delivered mail older than its age, never unacked mail, on its own schedule", async () => {
    const acked = await send(h, "alice", "bob", "old and acked");
    const unacked = await send(h, "alice", "carol", "old, never acked");
    const bcast = await send(h, "alice", "*", "old broadcast, acked by some");
    const toOp = await send(h, "alice", "operator", "the operator's mail has no ack");
    await ack(h, "bob", (await recv(h, "bob")).message!.id);
    await ack(h, "bob", (await recv(h, "bob")).message!.id);
    await ack(h, "dave", (await recv(h, "dave")).message!.id);
    const leased = (await recv(h, "carol", 0, 3600)).message;
    assert.equal(leased?.id, unacked.id);
    await h.clock.advance(6 * DAY);
    const young = await send(h, "alice", "bob", "acked recently");
    await ack(h, "bob", (await recv(h, "bob")).message!.id);
    assert.equal(await h.broker.sweep(), 0, "nothing is old enough yet");
    // The daily sweep runs by itself once the acked mail is past seven days.
    await h.clock.advance(2 * DAY);
    await waitUntil(
      () =>
        (
          h.db.prepare("SELECT count(*) AS n FROM messages WHERE id = ?").get(acked.id) as {
            n: number;
          }
        ).n === 0,
      { what: "the sweep to delete the old acked message" },
    );
    const left = (await history(h)).messages.map((m) => m.id);
    assert.deepEqual(left, [young.id, toOp.id, bcast.id, unacked.id]);
    const orphans = h.db
      .prepare("SELECT count(*) AS n FROM receipts WHERE message_id = ?")
      .get(acked.id) as { n: number };
    assert.equal(orphans.n, 0, "its receipts went with it");
  });
});
