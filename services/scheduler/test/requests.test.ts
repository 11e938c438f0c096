import assert from "node:assert/strict";
import { ErrorCode } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { clientId } from "../src/message.js";
import { countsOf, refusal, reminderEvents, snapshot } from "./helpers.js";
import { brokerMail, useHive } from "./hive.js";

describe("set, list, cancel: each agent its own; the operator any", () => {
  const t = useHive();

  it("lists its own, soonest first; cancels its own; cannot see or cancel another's", async () => {
    const { h, a } = t;
    const late = await a.remind("alice", { body: "third", in_seconds: 300 });
    const soon = await a.remind("alice", { body: "first", in_seconds: 100 });
    const mid = await a.remind("alice", { body: "second", in_seconds: 200 });
    const bobs = await a.remind("bob", { body: "bob's own", in_seconds: 150 });
    const ids = (p: { reminders: { id: number }[] }) => p.reminders.map((r) => r.id);

    assert.deepEqual(ids(await a.mine("alice")), [soon.id, mid.id, late.id]);
    assert.equal((await a.mine("alice")).truncated, false);
    assert.deepEqual(ids(await a.mine("bob")), [bobs.id], "bob sees only his own");

    const before = snapshot(h.db);
    for (const id of [late.id, soon.id]) {
      const e = await refusal(a.cancel("bob", id));
      assert.equal(e.code, ErrorCode.NotFound);
      assert.equal(e.message, `no reminder #${id} of yours`);
    }
    assert.equal((await refusal(a.cancel("bob", 999_999))).code, ErrorCode.NotFound);
    assert.deepEqual(snapshot(h.db), before, "another agent's cancel changed nothing");

    const cancelled = await a.cancel("alice", mid.id);
    assert.equal(cancelled.state, "cancelled");
    assert.equal(cancelled.cancelled_at, h.clock.now());
    assert.equal((await refusal(a.cancel("alice", mid.id))).code, ErrorCode.Conflict);
    assert.deepEqual(ids(await a.mine("alice")), [soon.id, late.id]);
    assert.deepEqual(ids(await a.mine("alice", true)), [soon.id, late.id, mid.id]);

    // The operator sees everyone's, or one agent's.
    const everyone = ids(await a.opList());
    for (const id of [soon.id, late.id, bobs.id]) assert.ok(everyone.includes(id));
    assert.ok(!everyone.includes(mid.id), "pending only by default");
    assert.deepEqual(ids(await a.opList({ agent: "bob" })), [bobs.id]);
    const two = await a.opList({ limit: 2 });
    assert.deepEqual(ids(two), [soon.id, bobs.id]);
    assert.equal(two.truncated, true);
    const opCancelled = await a.opCancel(bobs.id);
    assert.equal(opCancelled.state, "cancelled");

    // Only the pending ones land.
    await h.clock.advance(300_000);
    await waitUntil(() => h.scheduler.store.get(late.id)?.state === "delivered");
    assert.equal(h.scheduler.store.get(soon.id)?.state, "delivered");
    const got = brokerMail(h.brokerDb).filter((m) => m.sender === "reminder");
    assert.deepEqual(got.map((m) => m.client_id).sort(), [
      clientId(late.id, 1, h.scheduler.store.tag),
      clientId(soon.id, 1, h.scheduler.store.tag),
    ]);
  });

  it("the operator sets one for an agent on the roster (created_by operator), not for a stranger", async () => {
    const { a } = t;
    const r = await a.opRemind({ agent: "carol", body: "from the operator", in_seconds: 60 });
    assert.equal(r.owner, "carol");
    assert.equal(r.created_by, "operator");
    assert.deepEqual(
      (await a.mine("carol")).reminders.map((x) => x.id),
      [r.id],
    );
    const e = await refusal(a.opRemind({ agent: "zed", body: "x", in_seconds: 60 }));
    assert.equal(e.code, ErrorCode.NotFound);
    assert.match(e.message, /no agent named zed; the agents are: alice, bob, carol, dave/);
    await a.opCancel(r.id);
  });

  it("every change is an event with the owner's counts after it", async () => {
    const { h, a } = t;
    const events = reminderEvents(h.nc);
    const c0 = await countsOf(h.nc, "dave");
    const r = await a.remind("dave", { body: "count me", in_seconds: 10 });
    await events.count(1, "created");
    assert.deepEqual(events.seen[0]?.counts, { ...c0, pending: c0.pending + 1 });
    await h.clock.advance(10_000);
    await events.count(2, "delivered");
    assert.equal(events.seen[1]?.reminder.state, "delivered");
    assert.deepEqual(events.seen[1]?.counts, { ...c0, delivered: c0.delivered + 1 });
    assert.deepEqual(await countsOf(h.nc, "dave"), events.seen[1]?.counts);
    const r2 = await a.remind("dave", { body: "cancel me", in_seconds: 10 });
    await a.cancel("dave", r2.id);
    await events.count(4, "created and cancelled");
    assert.deepEqual(
      events.seen.map((e) => [e.reminder.id, e.reminder.state]),
      [
        [r.id, "pending"],
        [r.id, "delivered"],
        [r2.id, "pending"],
        [r2.id, "cancelled"],
      ],
    );
    assert.deepEqual(events.seen[3]?.counts, { ...c0, delivered: c0.delivered + 1 });
    events.stop();
  });

  it("an agent that leaves the roster (destroyed): its pending reminders are cancelled, not retried", async () => {
    const { h, a } = t;
    const events = reminderEvents(h.nc);
    const r1 = await a.remind("dave", { body: "one", in_seconds: 60 });
    const r2 = await a.opRemind({ agent: "dave", body: "two", in_seconds: 120, every_seconds: 60 });
    h.roster.set(["alice", "bob", "carol"]);
    await waitUntil(() =>
      [r1.id, r2.id].every((id) => h.scheduler.store.get(id)?.state === "cancelled"),
    );
    const gone = h.scheduler.store.get(r2.id)!;
    assert.match(gone.last_error ?? "", /dave is no longer in the hive \(destroyed\)/);
    assert.equal(gone.cancelled_at, h.clock.now());
    await events.count(4, "created and cancelled");
    assert.equal((await countsOf(h.nc, "dave")).pending, 0);
    await h.clock.advance(600_000);
    assert.equal(h.scheduler.deliverer.inFlight, 0, "nothing goes out for dave");
    assert.equal(
      (await refusal(a.opRemind({ agent: "dave", body: "x", in_seconds: 9 }))).code,
      "not_found",
    );
    h.roster.set([...h.roster.agents, "dave"]);
    await waitUntil(() => h.scheduler.roster?.has("dave"));
    events.stop();
  });
});

describe("limits: pending per agent, and a token bucket on an agent's own", () => {
  const t = useHive({ limits: { maxPending: 3, ratePerMinute: 6, burst: 2 } });

  it("at most N pending, whoever set them; refused with the limit, nothing changed", async () => {
    const { h, a } = t;
    const mine = await a.remind("alice", { body: "1", in_seconds: 600 });
    await a.opRemind({ agent: "alice", body: "2", in_seconds: 600 });
    await a.opRemind({ agent: "alice", body: "3", in_seconds: 600 });
    const before = snapshot(h.db);
    const e = await refusal(a.remind("alice", { body: "4", in_seconds: 600 }));
    assert.equal(e.code, ErrorCode.LimitExceeded);
    assert.equal(e.retryable, true);
    assert.match(e.message, /alice has 3 pending reminders; at most 3 may be pending per agent/);
    assert.match(e.message, /cancel_reminder/);
    const op = await refusal(a.opRemind({ agent: "alice", body: "4", in_seconds: 600 }));
    assert.equal(op.code, ErrorCode.LimitExceeded);
    assert.deepEqual(snapshot(h.db), before);
    await a.cancel("alice", mine.id);
    await a.opRemind({ agent: "alice", body: "4", in_seconds: 600 });
  });

  it("a burst, then the rate: refused saying both; the operator's take no token", async () => {
    const { h, a } = t;
    await a.remind("bob", { body: "1", in_seconds: 600 });
    await a.remind("bob", { body: "2", in_seconds: 600 });
    const before = snapshot(h.db);
    const e = await refusal(a.remind("bob", { body: "3", in_seconds: 600 }));
    assert.equal(e.code, ErrorCode.LimitExceeded);
    assert.equal(
      e.message,
      "bob may set at most 6 reminders a minute (bursts of 2); try again in 10 s",
    );
    assert.deepEqual(snapshot(h.db), before);
    // The operator is not held to bob's rate...
    const op = await a.opRemind({ agent: "bob", body: "from the operator", in_seconds: 600 });
    await a.opCancel(op.id);
    // ...and ten seconds give bob one token back, one.
    await h.clock.advance(10_000);
    await a.remind("bob", { body: "3", in_seconds: 600 });
    assert.equal(
      (await refusal(a.remind("bob", { body: "4", in_seconds: 600 }))).code,
      "limit_exceeded",
    );
    // Another agent has a bucket of its own.
    await a.remind("carol", { body: "1", in_seconds: 600 });
  });
});
