import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger, openDatabase } from "@hyperhive/shared";
import { TestClock, tempDir } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";
import { CommitQueue } from "../src/commit-queue.js";
import { type Delivered, RecvDispatcher } from "../src/dispatcher.js";
import { migrations } from "../src/schema.js";
import { MessageStore } from "../src/store.js";
import { WalSync } from "../src/wal-sync.js";

/** The group commit and the dispatcher over a real sqlite file, no NATS: batches made by hand. */
function rig(path: string, wal?: WalSync) {
  const db = openDatabase(path, migrations);
  const store = new MessageStore(db);
  const clock = new TestClock();
  const log = createLogger("test", { level: "silent" });
  let queue: CommitQueue | undefined;
  const dispatcher = new RecvDispatcher({
    store,
    clock,
    kick: () => queue?.kick(),
    delivery: () => {},
  });
  queue = new CommitQueue({ db, log, wal, beforeCommit: (fx) => dispatcher.dispatch(fx) });
  const park = (agent: string, max = 1, leaseMs = 60_000) =>
    new Promise<Delivered>((resolve, reject) => {
      void queue.run(
        () => dispatcher.park({ agent, max, leaseMs, waitMs: 30_000, resolve, reject }),
        { durable: false },
      );
    });
  const send = (to: string, body: string) =>
    queue.run(
      () => {
        const r = store.insert({ from: "alice", to, body, recipients: [to], now: clock.now() });
        dispatcher.markDirty(to);
        return r;
      },
      { durable: true },
    );
  return { db, store, clock, queue, dispatcher, park, send };
}

describe("the dispatcher inside the group commit", () => {
  const dir = tempDir("hive-dispatch-");
  afterAll(() => dir.remove());

  it("recvs served in one batch each count what is left after them, in the order they parked", async () => {
    const r = rig(join(dir.path, "a.sqlite"));
    // Queued in the same turn of the event loop: one batch, parks first, then four sends.
    const polls = [r.park("dave"), r.park("dave"), r.park("dave")];
    const sent = await Promise.all([1, 2, 3, 4].map((i) => r.send("dave", `m${i}`)));
    const got = await Promise.all(polls);
    assert.equal(r.queue.stats.batches, 1, "one batch");
    assert.deepEqual(
      got.map((g) => [g.messages[0]?.id, g.pending]),
      [
        [sent[0]?.id, 3],
        [sent[1]?.id, 2],
        [sent[2]?.id, 1],
      ],
    );
    assert.equal(r.dispatcher.waiting("dave"), 0);
    await r.queue.idle();
    r.db.close();
  });

  it("a message handed to a parked recv reaches it at the commit, before its fsync starts; its send is acknowledged after the fsync", async () => {
    const path = join(dir.path, "wal.sqlite");
    const order: string[] = [];
    class Recorded extends WalSync {
      override sync(): Promise<void> {
        order.push("fsync started");
        return super.sync().then(() => void order.push("fsynced"));
      }
    }
    const r = rig(path, new Recorded(path));
    // Mail committed before the recv parks: the WAL exists.
    await r.send("gus", "first");
    await r.park("gus");
    const polling = r.park("gus").then((d) => {
      order.push("recv");
      return d;
    });
    const sending = r.send("gus", "second").then((s) => {
      order.push("send");
      return s;
    });
    const [got, sent] = await Promise.all([polling, sending]);
    assert.equal(got.messages[0]?.id, sent.id);
    // The fsync starts only once the recv has its answer (the replies of a batch go out before
    // the kernel's work for its fsync).
    assert.deepEqual(order, ["recv", "fsync started", "fsynced", "send"]);
    await r.queue.idle();
    r.db.close();
  });

  it("a recv_batch takes up to its max and leaves the rest to the next parked recv", async () => {
    const r = rig(join(dir.path, "b.sqlite"));
    const polls = [r.park("erin", 2), r.park("erin", 5)];
    const sent = await Promise.all([1, 2, 3].map((i) => r.send("erin", `m${i}`)));
    const [a, b] = await Promise.all(polls);
    assert.deepEqual(
      a?.messages.map((m) => m.id),
      [sent[0]?.id, sent[1]?.id],
    );
    assert.equal(a?.pending, 1);
    assert.deepEqual(
      b?.messages.map((m) => m.id),
      [sent[2]?.id],
    );
    assert.equal(b?.pending, 0);
    await r.queue.idle();
    r.db.close();
  });

  it("after a broadcast to many parked agents each gets its own oldest deliverable mail, in one lease statement per lease length", async () => {
    const r = rig(join(dir.path, "c.sqlite"));
    const agents = Array.from({ length: 12 }, (_, i) => `b${i}`);
    // b0 has older mail queued; b1 a message leased out that ran out (a redelivery); b2 one
    // leased and running; b3 two recvs parked, the second a recv_batch.
    const older = await r.send("b0", "older");
    const lapsed = await r.send("b1", "lapsed");
    const first = await r.park("b1");
    assert.equal(first.messages[0]?.id, lapsed.id);
    await r.clock.advance(61_000);
    const running = await r.send("b2", "running");
    assert.equal((await r.park("b2")).messages[0]?.id, running.id);
    const attemptsBefore = r.dispatcher.stats.leaseAttempts;
    // Every third recv asks for a lease of its own length: leased in a statement of its own.
    const leaseMs = (i: number) => (i % 3 === 2 ? 20_000 : 60_000);
    const polls = new Map(agents.map((a, i) => [a, r.park(a, 1, leaseMs(i))]));
    const second = r.park("b3", 5);
    const bc = await r.queue.run(
      () => {
        const m = r.store.insert({
          from: "alice",
          to: "*",
          body: "to all",
          recipients: agents,
          now: r.clock.now(),
        });
        for (const a of agents) r.dispatcher.markDirty(a);
        return m;
      },
      { durable: true },
    );
    const got = new Map<string, Delivered>();
    for (const [a, p] of polls) got.set(a, await p);
    agents.forEach((a, i) => {
      assert.equal(got.get(a)?.messages[0]?.lease_until, r.clock.now() + leaseMs(i), a);
    });
    assert.deepEqual(
      got.get("b0")?.messages.map((m) => [m.id, m.delivery]),
      [[older.id, 1]],
    );
    assert.equal(got.get("b0")?.pending, 1, "the broadcast is still pending for b0");
    assert.deepEqual(
      got.get("b1")?.messages.map((m) => [m.id, m.delivery, m.redelivered]),
      [[lapsed.id, 2, true]],
    );
    for (const a of agents.filter((x) => x !== "b0" && x !== "b1")) {
      assert.deepEqual(
        got.get(a)?.messages.map((m) => [m.id, m.from, m.to, m.body, m.delivery]),
        [[bc.id, "alice", "*", "to all", 1]],
        a,
      );
    }
    // b3's second recv (a batch) finds nothing more: it stays parked.
    assert.equal(r.dispatcher.waiting("b3"), 1);
    // One attempt per agent for the bulk lease, and none one by one after it.
    assert.ok(r.dispatcher.stats.leaseAttempts - attemptsBefore <= agents.length + 1);
    r.dispatcher.dismiss();
    assert.deepEqual((await second).messages, []);
    await r.queue.idle();
    r.db.close();
  });
});
