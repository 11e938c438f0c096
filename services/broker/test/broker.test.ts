import assert from "node:assert/strict";
import {
  ErrorCode,
  HiveError,
  InboxAnnouncement,
  MAX_BODY_BYTES,
  parseEvent,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { waitUntil, withTimeout } from "@hyperhive/shared/testing";
import { deferred } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { type Harness, messageRows, raw, snapshot, startHarness, wireError } from "./helpers.js";

const send = (h: Harness, as: string, to: string, body: string, client_id?: string) =>
  request(h.nc, subjects.agent.send(as), rpcs.send, {
    to,
    body,
    ...(client_id ? { client_id } : {}),
  });
const recv = (
  h: Harness,
  as: string,
  opts: { wait_seconds?: number; lease_seconds?: number } = {},
) =>
  request(h.nc, subjects.agent.recv(as), rpcs.recv, opts, {
    timeoutMs: ((opts.wait_seconds ?? 30) + 5) * 1000,
  });
const ack = (h: Harness, as: string, id: number) =>
  request(h.nc, subjects.agent.ack(as), rpcs.ack, { id });

describe("broker over a real nats-server and sqlite", () => {
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

  it("send, recv, ack: the message comes back leased, then is gone", async () => {
    const sent = await send(h, "alice", "bob", "hello bob");
    assert.equal(sent.duplicate, false);
    const got = await recv(h, "bob", { wait_seconds: 0 });
    assert.ok(got.message);
    assert.equal(got.message.id, sent.id);
    assert.equal(got.message.from, "alice");
    assert.equal(got.message.to, "bob");
    assert.equal(got.message.body, "hello bob");
    assert.equal(got.message.delivery, 1);
    assert.equal(got.message.redelivered, false);
    assert.equal(got.message.sent_at, sent.sent_at);
    assert.ok(got.message.lease_until > Date.now() + 100_000, "default lease is 120 s");
    assert.equal(got.pending, 0);
    assert.deepEqual(await ack(h, "bob", sent.id), { id: sent.id, first_ack: true });
    const none = await recv(h, "bob", { wait_seconds: 0 });
    assert.deepEqual(none, { message: null, pending: 0 });
  });

  it("delivers oldest first and counts what is still pending", async () => {
    const a = await send(h, "alice", "bob", "one");
    const b = await send(h, "carol", "bob", "two");
    await send(h, "alice", "dave", "not for bob");
    const first = await recv(h, "bob", { wait_seconds: 0 });
    assert.equal(first.message?.id, a.id);
    assert.equal(first.pending, 1);
    const second = await recv(h, "bob", { wait_seconds: 0 });
    assert.equal(second.message?.id, b.id);
    assert.equal(second.pending, 0);
  });

  it("a waiting recv answers as soon as mail lands", async () => {
    const polling = recv(h, "bob", { wait_seconds: 30 });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "recv to be waiting" });
    const sent = await send(h, "alice", "bob", "wake up");
    const sentAt = performance.now();
    const got = await withTimeout(polling, 2000, "woken recv");
    const latency = performance.now() - sentAt;
    assert.equal(got.message?.id, sent.id);
    assert.ok(latency < 1000, `recv took ${latency} ms after the send was committed`);
    assert.equal(h.broker.waiting("bob"), 0);
  });

  it("announces committed mail on hive.inbox.<to>", async () => {
    const sub = h.nc.subscribe(subjects.inbox("bob"), { max: 1 });
    await h.nc.flush();
    const seen = (async () => {
      for await (const m of sub) return parseEvent(InboxAnnouncement, m);
      return null;
    })();
    const sent = await send(h, "alice", "bob", "x".repeat(300));
    const ann = await withTimeout(seen, 2000, "announcement");
    assert.ok(ann);
    assert.equal(ann.id, sent.id);
    assert.equal(ann.from, "alice");
    assert.equal(ann.to, "bob");
    assert.equal(ann.preview.length, 120);
    // Committed before announced: the row is there when the event is seen.
    assert.equal(messageRows(h.db).length, 1);
  });

  it("honours the wait on its clock: 0 answers at once, 1 answers empty a second later, >180 is capped", async () => {
    assert.deepEqual(await recv(h, "bob", { wait_seconds: 0 }), { message: null, pending: 0 });
    let answered = false;
    const one = recv(h, "bob", { wait_seconds: 1 }).finally(() => {
      answered = true;
    });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "the 1 s wait to park" });
    await h.clock.advance(999);
    assert.equal(answered, false, "answered before its second was up");
    await h.clock.advance(2);
    assert.deepEqual(await one, { message: null, pending: 0 });
    // A wait beyond the cap is accepted (and capped), not refused.
    let capped = false;
    const long = recv(h, "bob", { wait_seconds: 10_000 }).finally(() => {
      capped = true;
    });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "the long wait to park" });
    await h.clock.advance(179_000);
    assert.equal(capped, false);
    await h.clock.advance(1_001);
    assert.deepEqual(await long, { message: null, pending: 0 });
    // Mail wakes a parked recv at once, whatever its wait.
    const woken = recv(h, "bob", { wait_seconds: 10_000 });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "the third wait to park" });
    const sent = await send(h, "alice", "bob", "wake up");
    assert.equal((await woken).message?.id, sent.id);
  });

  it("is idempotent on (sender, client_id)", async () => {
    const first = await send(h, "alice", "bob", "once", "c-1");
    const again = await send(h, "alice", "bob", "once", "c-1");
    assert.deepEqual(again, { id: first.id, duplicate: true, sent_at: first.sent_at });
    // Another sender may use the same client_id: it is scoped per sender.
    const other = await send(h, "carol", "bob", "once", "c-1");
    assert.notEqual(other.id, first.id);
    assert.equal(other.duplicate, false);
    assert.equal(messageRows(h.db).length, 2);
  });

  it("refuses an empty or whitespace-only body, storing nothing", async () => {
    for (const body of ["", " ", "\n\t  \n"]) {
      const err = wireError(await raw(h.nc, subjects.agent.send("alice"), { to: "bob", body }));
      assert.equal(err.code, ErrorCode.BadRequest);
      assert.match(err.message, /^body: body must not be empty or only whitespace/);
    }
    assert.equal(messageRows(h.db).length, 0);
  });

  it("gives body_too_large advice that fits the sender", async () => {
    const big = "x".repeat(MAX_BODY_BYTES + 1);
    await assert.rejects(
      request(h.nc, subjects.op.send, rpcs.send, { to: "bob", body: big }),
      (e: unknown) =>
        HiveError.is(e, ErrorCode.BodyTooLarge) &&
        /Send a shorter message, or put the content in a world-readable file in the hive's shared dir/.test(
          e.message,
        ) &&
        !/your state dir/.test(e.message),
    );
    assert.equal(messageRows(h.db).length, 0);
  });

  it("refuses bodies over 4096 UTF-8 bytes with body_too_large, storing nothing", async () => {
    // 1366 × "€" (3 bytes) = 4098 bytes but only 1366 characters: the cap counts bytes.
    await assert.rejects(send(h, "alice", "bob", "€".repeat(1366)), (e: unknown) => {
      assert.ok(HiveError.is(e, ErrorCode.BodyTooLarge));
      assert.match(e.message, /4096/);
      assert.match(e.message, /file in the hive's shared dir/);
      assert.match(e.message, /for the operator alone, a file in your state dir/);
      assert.match(e.message, /path/);
      assert.equal(e.retryable, false);
      return true;
    });
    const ok = await send(h, "alice", "bob", "a".repeat(MAX_BODY_BYTES));
    assert.equal(ok.duplicate, false);
    assert.equal(messageRows(h.db).length, 1);
  });

  it("takes the sender from the subject, never the payload", async () => {
    const spoof = wireError(
      await raw(h.nc, subjects.agent.send("mallory"), { to: "bob", body: "hi", from: "operator" }),
    );
    assert.equal(spoof.code, ErrorCode.BadRequest);
    assert.match(spoof.message, /from/);
    assert.equal(messageRows(h.db).length, 0);

    await send(h, "mallory", "bob", "hi");
    await request(h.nc, subjects.op.send, rpcs.send, { to: "bob", body: "from op" });
    await request(h.nc, subjects.sys.send, rpcs.send, { to: "bob", body: "from sys" });
    await request(h.nc, subjects.sched.send, rpcs.send, { to: "bob", body: "reminder #1: x" });
    const froms = [];
    for (let i = 0; i < 4; i++)
      froms.push((await recv(h, "bob", { wait_seconds: 0 })).message?.from);
    assert.deepEqual(froms, ["mallory", "operator", "system", "reminder"]);
  });

  it("redelivers a message whose lease expired, marked as such", async () => {
    const sent = await send(h, "alice", "bob", "did you get this?");
    const first = await recv(h, "bob", { wait_seconds: 0, lease_seconds: 1 });
    assert.equal(first.message?.delivery, 1);
    // Leased: not deliverable right now, nor a moment before the lease ends.
    assert.deepEqual(await recv(h, "bob", { wait_seconds: 0 }), { message: null, pending: 0 });
    await h.clock.advance(999);
    assert.deepEqual(await recv(h, "bob", { wait_seconds: 0 }), { message: null, pending: 0 });
    await h.clock.advance(1);
    const again = (await recv(h, "bob", { wait_seconds: 0 })).message;
    assert.equal(again?.id, sent.id);
    assert.equal(again?.delivery, 2);
    assert.equal(again?.redelivered, true);
    assert.deepEqual(await ack(h, "bob", sent.id), { id: sent.id, first_ack: true });
  });

  it("wakes a waiting recv when a lease expires", async () => {
    const sent = await send(h, "alice", "bob", "lease me");
    const first = await recv(h, "bob", { wait_seconds: 0, lease_seconds: 60 });
    assert.equal(first.message?.id, sent.id);
    const again = recv(h, "bob", { wait_seconds: 120 });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "recv to park" });
    await h.clock.advance(60_001);
    const got = await withTimeout(again, 2000, "recv woken by the lease's end");
    assert.equal(got.message?.id, sent.id);
    assert.equal(got.message?.delivery, 2);
    assert.equal(got.message?.redelivered, true);
  });

  it("extend keeps a message leased to its receiver only", async () => {
    const a = await send(h, "alice", "bob", "long turn");
    const b = await send(h, "alice", "bob", "acked already");
    const c = await send(h, "alice", "carol", "carol's");
    const got = await recv(h, "bob", { wait_seconds: 0, lease_seconds: 1 });
    assert.equal(got.message?.id, a.id);
    const gotB = await recv(h, "bob", { wait_seconds: 0, lease_seconds: 1 });
    assert.equal(gotB.message?.id, b.id);
    await ack(h, "bob", b.id);
    const ext = await request(h.nc, subjects.agent.extend("bob"), rpcs.extend, {
      ids: [a.id, b.id, c.id, 999_999],
      lease_seconds: 30,
    });
    assert.deepEqual(ext.extended, [a.id]);
    // Past the original 1 s lease it is still not deliverable; past the extended one it is.
    await h.clock.advance(29_000);
    assert.deepEqual(await recv(h, "bob", { wait_seconds: 0 }), { message: null, pending: 0 });
    await h.clock.advance(1_000);
    assert.equal((await recv(h, "bob", { wait_seconds: 0 })).message?.id, a.id);
    // carol's message was not touched by bob's extend: never leased, still deliverable.
    assert.equal((await recv(h, "carol", { wait_seconds: 0 })).message?.delivery, 1);
  });

  it("release hands a dead incarnation's leases back at once, redelivered, and only the caller's", async () => {
    const a = await send(h, "alice", "bob", "in flight when bob died");
    const done = await send(h, "alice", "bob", "acked before");
    const c = await send(h, "alice", "carol", "carol's, leased");
    assert.equal((await recv(h, "bob", { wait_seconds: 0, lease_seconds: 600 })).message?.id, a.id);
    assert.equal(
      (await recv(h, "bob", { wait_seconds: 0, lease_seconds: 600 })).message?.id,
      done.id,
    );
    await ack(h, "bob", done.id);
    assert.equal(
      (await recv(h, "carol", { wait_seconds: 0, lease_seconds: 600 })).message?.id,
      c.id,
    );

    // The new bob releases, then its recv gets the message at once.
    const rel = await request(h.nc, subjects.agent.release("bob"), rpcs.release, {});
    assert.deepEqual(rel.released, [a.id]);
    const again = await withTimeout(recv(h, "bob", { wait_seconds: 30 }), 2000, "redelivery");
    assert.equal(again.message?.id, a.id);
    assert.equal(again.message?.redelivered, true);
    assert.equal(again.message?.delivery, 2);
    // carol's lease is untouched; another restart would hand back bob's new lease again.
    assert.deepEqual(await recv(h, "carol", { wait_seconds: 0 }), { message: null, pending: 0 });
    const rel2 = await request(h.nc, subjects.agent.release("bob"), rpcs.release, {});
    assert.deepEqual(rel2.released, [a.id]);
  });

  it("release answers the dead incarnation's parked recv, so new mail goes to the new one", async () => {
    // The old bob was long-polling when it died (or was stopped): its recv is still parked in
    // the broker, its reply subject gone.
    const old = recv(h, "bob", { wait_seconds: 30 });
    await waitUntil(() => h.broker.waiting("bob") === 1, { what: "the old recv to park" });
    await request(h.nc, subjects.agent.release("bob"), rpcs.release, {});
    const fresh = recv(h, "bob", { wait_seconds: 30 });
    // The new recv is parked once a later request on the same connection is answered.
    await request(h.nc, subjects.op.inbox, rpcs.opInbox, {});
    const sent = await send(h, "alice", "bob", "after the restart");
    const got = await withTimeout(fresh, 2000, "the new recv gets the mail");
    assert.equal(got.message?.id, sent.id);
    assert.deepEqual(await withTimeout(old, 2000, "the old recv answered"), {
      message: null,
      pending: 0,
    });
    assert.equal(got.message?.delivery, 1);
  });

  it("ack is idempotent and refuses someone else's message", async () => {
    const sent = await send(h, "alice", "bob", "ack me");
    await recv(h, "bob", { wait_seconds: 0 });
    assert.deepEqual(await ack(h, "bob", sent.id), { id: sent.id, first_ack: true });
    assert.deepEqual(await ack(h, "bob", sent.id), { id: sent.id, first_ack: false });
    const before = snapshot(h.db);
    await assert.rejects(ack(h, "carol", sent.id), (e: unknown) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    await assert.rejects(ack(h, "bob", 424242), (e: unknown) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    assert.deepEqual(snapshot(h.db), before);
  });

  it("never hands the same message to two concurrent recvs", async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await send(h, "alice", "bob", `m${i}`)).id);
    const all = Promise.all(
      Array.from({ length: 10 }, () => recv(h, "bob", { wait_seconds: 1, lease_seconds: 60 })),
    );
    await waitUntil(() => h.broker.waiting("bob") === 5, { what: "five recvs left to park" });
    await h.clock.advance(1_001);
    const results = await all;
    const got = results.flatMap((r) => (r.message ? [r.message.id] : []));
    assert.deepEqual(
      [...got].sort((x, y) => x - y),
      ids,
    );
    assert.equal(results.filter((r) => r.message === null).length, 5);
  });

  it("lists the operator's inbox newest first, with paging", async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await send(h, "alice", "operator", `report ${i}`)).id);
    await send(h, "alice", "bob", "not for the operator");
    const all = await request(h.nc, subjects.op.inbox, rpcs.opInbox, {});
    assert.deepEqual(
      all.messages.map((m) => m.id),
      [...ids].reverse(),
    );
    assert.equal(all.messages[0]?.from, "alice");
    assert.equal(all.messages[0]?.to, "operator");
    assert.equal(all.messages[0]?.acked_at, null);
    const page1 = await request(h.nc, subjects.op.inbox, rpcs.opInbox, { limit: 2 });
    assert.deepEqual(
      page1.messages.map((m) => m.body),
      ["report 4", "report 3"],
    );
    const page2 = await request(h.nc, subjects.op.inbox, rpcs.opInbox, {
      limit: 2,
      before_id: page1.messages[1]!.id,
    });
    assert.deepEqual(
      page2.messages.map((m) => m.body),
      ["report 2", "report 1"],
    );
  });
});

describe("broker lifecycle", () => {
  it("start and stop are idempotent, and stop answers pending long-polls at once", async () => {
    const h = await startHarness();
    try {
      assert.equal(h.broker.start(), h.broker.start());
      const polling = recv(h, "bob", { wait_seconds: 180 });
      await waitUntil(() => h.broker.waiting("bob") === 1, { what: "recv to be waiting" });
      const answered = deferred<number>();
      const t = performance.now();
      void polling.then((r) => {
        assert.equal(r.message, null);
        answered.resolve(performance.now() - t);
      }, answered.reject);
      const stop = h.broker.stop();
      assert.equal(h.broker.stop(), stop);
      await stop;
      const took = await withTimeout(answered, 2000, "long-poll answered on stop");
      assert.ok(took < 2000);
      assert.equal(h.broker.state, "stopped");
    } finally {
      await h.close();
    }
  });
});
