import assert from "node:assert/strict";
import { request, rpcs, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { clientId } from "../src/message.js";
import { inbox, reminderEvents } from "./helpers.js";
import { brokerMail, type Hive, useHive } from "./hive.js";

/** The messages the broker stored from `reminder` to `agent`. */
function fromReminder(h: Hive, agent: string) {
  return brokerMail(h.brokerDb).filter((m) => m.sender === "reminder" && m.recipient === agent);
}

describe("delivery into the inbox, on a test clock", () => {
  const t = useHive();

  it("remind: the message arrives from `reminder` at the time asked, with the id and text", async () => {
    const { h, a } = t;
    const mail = inbox(h.nc, "alice");
    const events = reminderEvents(h.nc);
    const t0 = h.clock.now();
    const r = await a.remind("alice", { body: "stand-up in five", in_seconds: 90 });
    assert.equal(r.owner, "alice");
    assert.equal(r.created_by, "alice");
    assert.equal(r.due_at, t0 + 90_000);
    assert.equal(r.state, "pending");
    assert.equal(h.scheduler.deliverer.armedFor, r.due_at);

    await h.clock.advance(89_999);
    assert.equal(h.scheduler.deliverer.inFlight, 0, "nothing goes out a millisecond early");
    assert.equal(h.scheduler.store.get(r.id)?.delivered_count, 0);
    assert.equal(mail.seen.length, 0);

    await h.clock.advance(1);
    const [ann] = await mail.count(1, "inbox announcements");
    assert.equal(ann?.from, "reminder");
    // The agent's recv gets it like any other mail: this is what wakes it.
    const got = await request(h.nc, subjects.agent.recv("alice"), rpcs.recv, { wait_seconds: 0 });
    assert.equal(got.message?.from, "reminder");
    assert.equal(got.message?.body, `reminder #${r.id}: stand-up in five`);
    await request(h.nc, subjects.agent.ack("alice"), rpcs.ack, { id: got.message!.id });

    const done = await waitUntil(() => {
      const now = h.scheduler.store.get(r.id);
      return now?.state === "delivered" ? now : undefined;
    });
    assert.equal(done.delivered_count, 1);
    assert.equal(done.last_delivered_at, r.due_at, "delivered at the instant it was due");
    const stored = fromReminder(h, "alice").filter(
      (m) => m.client_id === clientId(r.id, 1, h.scheduler.store.tag),
    );
    assert.equal(stored.length, 1);

    const mine = (await events.count(2, "reminder events")).filter((e) => e.reminder.id === r.id);
    assert.deepEqual(
      mine.map((e) => e.reminder.state),
      ["pending", "delivered"],
    );
    assert.equal(mine[1]?.counts.delivered, (mine[0]?.counts.delivered ?? -1) + 1);
    assert.equal(mine[1]?.counts.pending, (mine[0]?.counts.pending ?? -1) - 1);
    mail.stop();
    events.stop();
  });

  it("remind at an ISO time, to the millisecond; a time in the past or over a year ahead is refused", async () => {
    const { h, a } = t;
    const at = new Date(h.clock.now() + 3_600_123).toISOString();
    const r = await a.remind("bob", { body: "at a time", at });
    assert.equal(r.due_at, Date.parse(at));
    await h.clock.advance(3_600_123);
    await waitUntil(() => h.scheduler.store.get(r.id)?.state === "delivered");
    assert.equal(h.scheduler.store.get(r.id)?.last_delivered_at, Date.parse(at));

    const before = h.scheduler.store.list({ owner: "bob", all: true, limit: 100 });
    for (const bad of [
      new Date(h.clock.now() - 1000).toISOString(),
      new Date(h.clock.now() + 367 * 86_400_000).toISOString(),
    ]) {
      await assert.rejects(a.remind("bob", { body: "x", at: bad }), { code: "bad_request" });
    }
    assert.deepEqual(h.scheduler.store.list({ owner: "bob", all: true, limit: 100 }), before);
  });

  it("repeating: each occurrence lands once, every period, and says when the next is due", async () => {
    const { h, a } = t;
    const t0 = h.clock.now();
    const r = await a.remind("carol", { body: "drink water", in_seconds: 60, every_seconds: 60 });
    for (let k = 1; k <= 3; k++) {
      await h.clock.advance(60_000);
      await waitUntil(() => h.scheduler.store.get(r.id)?.delivered_count === k, {
        what: `occurrence ${k}`,
      });
      const now = h.scheduler.store.get(r.id)!;
      assert.equal(now.state, "pending");
      assert.equal(now.due_at, t0 + (k + 1) * 60_000);
      assert.equal(now.last_delivered_at, t0 + k * 60_000);
    }
    const got = fromReminder(h, "carol");
    assert.deepEqual(
      got.map((m) => m.client_id),
      [1, 2, 3].map((k) => clientId(r.id, k, h.scheduler.store.tag)),
    );
    got.forEach((m, i) => {
      const next = new Date(t0 + (i + 2) * 60_000).toISOString();
      assert.equal(m.body, `reminder #${r.id}: drink water\n(repeats every 1m; next due ${next})`);
    });
    // Cancelled: nothing more goes out.
    await a.cancel("carol", r.id);
    await h.clock.advance(180_000);
    assert.equal(h.scheduler.deliverer.inFlight, 0);
    assert.equal(h.scheduler.store.get(r.id)?.delivered_count, 3);
    assert.equal(fromReminder(h, "carol").length, 3);
  });

  it("overdue at start: delivered at once, late and once; a repeating one skips the missed periods", async () => {
    const { h, a } = t;
    const t0 = h.clock.now();
    const once = await a.remind("dave", { body: "the build", in_seconds: 60 });
    const every = await a.remind("dave", { body: "standup", in_seconds: 60, every_seconds: 600 });
    await h.stopScheduler();
    await h.clock.advance(2 * 3600_000);
    await h.restartScheduler();
    await waitUntil(
      () =>
        h.scheduler.store.get(once.id)?.state === "delivered" &&
        h.scheduler.store.get(every.id)?.delivered_count === 1,
      { what: "both overdue reminders delivered" },
    );
    const due = new Date(t0 + 60_000).toISOString();
    const next = t0 + 60_000 + 12 * 600_000;
    const got = fromReminder(h, "dave");
    assert.deepEqual(
      got.map((m) => m.body).sort(),
      [
        `reminder #${once.id}: the build\n(late by 1h 59m: it was due at ${due})`,
        `reminder #${every.id}: standup\n(late by 1h 59m: it was due at ${due})\n` +
          "(11 later occurrences fell due meanwhile and were skipped)\n" +
          `(repeats every 10m; next due ${new Date(next).toISOString()})`,
      ].sort(),
    );
    assert.equal(h.scheduler.store.get(every.id)?.due_at, next);
    assert.ok(next > h.clock.now(), "the next occurrence is ahead");
    // Restarting again sends nothing more.
    await h.restartScheduler();
    assert.equal(h.scheduler.deliverer.inFlight, 0);
    assert.equal(fromReminder(h, "dave").length, 2);
    await a.cancel("dave", every.id);
  });

  it("one timer, for the earliest, however many are pending; re-armed as that changes", async () => {
    const { h, a } = t;
    const { store } = h.scheduler;
    const t0 = h.clock.now();
    const ids = store.durably(() =>
      Array.from(
        { length: 5000 },
        (_, i) =>
          store.insert({
            owner: "carol",
            body: `n${i}`,
            createdBy: "operator",
            createdAt: t0,
            dueAt: t0 + 86_400_000 + ((i * 7919) % 5000) * 1000,
            everySeconds: null,
          }).id,
      ),
    );
    h.scheduler.deliverer.changed();
    const first = ids[0]!; // (0 * 7919) % 5000 = 0: the earliest
    assert.equal(h.clock.pending, 1, "one timer on the clock");
    assert.equal(h.scheduler.deliverer.armedFor, t0 + 86_400_000);
    const early = await a.remind("bob", { body: "sooner", in_seconds: 30 });
    assert.equal(h.scheduler.deliverer.armedFor, early.due_at);
    await a.opCancel(early.id);
    assert.equal(h.scheduler.deliverer.armedFor, t0 + 86_400_000);
    await a.opCancel(first);
    assert.equal(h.scheduler.deliverer.armedFor, t0 + 86_400_000 + 1000);
    assert.equal(h.clock.pending, 1);
    for (const id of ids) store.cancel(id, t0);
    h.scheduler.deliverer.changed();
    assert.equal(h.clock.pending, 0, "nothing pending: no timer at all");
  });
});
