import assert from "node:assert/strict";
import { ErrorCode, type Reminder } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { DELIVERY_RETRY } from "../src/delivery.js";
import { clientId } from "../src/message.js";
import { countsOf, inbox, refusal, reminderEvents } from "./helpers.js";
import { brokerMail, deliveredIn, insertDue, useHive } from "./hive.js";

describe("failed deliveries: retried with backoff, the error kept and shown", () => {
  const t = useHive();

  /** Waits until reminder `id` has had `n` failed tries; returns it. */
  const failedTries = (id: number, n: number): Promise<Reminder> =>
    waitUntil(
      () => {
        const r = t.h.scheduler.store.get(id);
        return r?.attempt_count === n ? r : undefined;
      },
      { what: `${n} failed tries of #${id}` },
    );

  it("broker down: each try fails, attempt_count/last_error/retry_at persisted and published; delivered once it is back", async () => {
    const { h, a } = t;
    const events = reminderEvents(h.nc);
    await h.stopBroker();
    const r = await a.remind("alice", { body: "while the broker is away", in_seconds: 10 });
    await h.clock.advance(10_000);
    const first = await failedTries(r.id, 1);
    assert.match(first.last_error ?? "", /^unavailable: no service answers hive\.sched\.send/);
    assert.equal(first.retry_at, h.clock.now() + DELIVERY_RETRY.initialMs);
    assert.equal(first.state, "pending");
    assert.deepEqual(await countsOf(h.nc, "alice"), {
      agent: "alice",
      pending: 1,
      delivered: 0,
      failing: 1,
    });
    const failed = await waitUntil(() =>
      events.seen.find((e) => e.reminder.id === r.id && e.reminder.attempt_count === 1),
    );
    assert.equal(failed.reminder.last_error, first.last_error);
    assert.equal(failed.counts.failing, 1);
    // The listing shows it too (the CLI's and the dashboard's banner).
    const listed = (await a.opList({ agent: "alice" })).reminders[0];
    assert.equal(listed?.last_error, first.last_error);

    // Backoff: 1 s, then 2 s.
    await h.clock.advance(DELIVERY_RETRY.initialMs - 1);
    assert.equal(h.scheduler.store.get(r.id)?.attempt_count, 1, "not before the pause");
    await h.clock.advance(1);
    const second = await failedTries(r.id, 2);
    assert.equal(second.retry_at, h.clock.now() + DELIVERY_RETRY.initialMs * 2);

    // The broker is back: the next try lands it, once, and clears the error.
    await h.startBroker();
    await h.clock.advance(DELIVERY_RETRY.initialMs * 2);
    const done = await waitUntil(() => {
      const x = h.scheduler.store.get(r.id);
      return x?.state === "delivered" ? x : undefined;
    });
    assert.deepEqual(
      [done.attempt_count, done.last_error, done.retry_at, done.delivered_count],
      [0, null, null, 1],
    );
    const got = brokerMail(h.brokerDb).filter(
      (m) => m.client_id === clientId(r.id, 1, h.scheduler.store.tag),
    );
    assert.equal(got.length, 1);
    assert.equal(got[0]?.body, `reminder #${r.id}: while the broker is away`);
    await waitUntil(() =>
      events.seen.find((e) => e.reminder.id === r.id && e.reminder.state === "delivered"),
    );
    assert.equal((await countsOf(h.nc, "alice")).failing, 0);
    events.stop();
  });

  it("retry_reminder: a failing one is tried now; anything else is refused", async () => {
    const { h, a } = t;
    await h.stopBroker();
    const r = await a.remind("bob", { body: "retry me", in_seconds: 5 });
    assert.equal((await refusal(a.opRetry(r.id))).code, ErrorCode.Conflict, "not failing yet");
    await h.clock.advance(5_000);
    await failedTries(r.id, 1);
    // Tried again now, without the clock moving: fails again (still down), the pause doubles.
    const again = await a.opRetry(r.id);
    assert.equal(again.retry_at, h.clock.now());
    const second = await failedTries(r.id, 2);
    assert.equal(second.retry_at, h.clock.now() + 2 * DELIVERY_RETRY.initialMs);

    await h.startBroker();
    const mail = inbox(h.nc, "bob");
    await a.opRetry(r.id);
    await mail.count(1, "announcements");
    await waitUntil(() => h.scheduler.store.get(r.id)?.state === "delivered");
    assert.equal(mail.seen[0]?.from, "reminder");
    assert.equal((await refusal(a.opRetry(r.id))).code, ErrorCode.Conflict, "delivered already");
    assert.equal((await refusal(a.opRetry(999_999))).code, ErrorCode.NotFound);
    mail.stop();
  });

  it("a reminder for someone the broker does not know, and we know no roster of: cancelled", async () => {
    const { h } = t;
    // dave left while the scheduler was down, and c0re is not answering: the broker's
    // not_found is all there is to go by.
    await h.stopScheduler();
    h.roster.set(["alice", "bob", "carol"]);
    await h.restartScheduler();
    await waitUntil(() => h.scheduler.roster?.has("dave") === false);
    // A reminder stored for dave before he left (inserted as the store would have it).
    const { store } = h.scheduler;
    const r = store.durably(() =>
      store.insert({
        owner: "dave",
        body: "for a gone agent",
        createdBy: "dave",
        createdAt: h.clock.now(),
        dueAt: h.clock.now() + 1000,
        everySeconds: null,
      }),
    );
    h.scheduler.deliverer.changed();
    await h.clock.advance(1000);
    const gone = await waitUntil(() => {
      const x = store.get(r.id);
      return x?.state === "cancelled" ? x : undefined;
    });
    assert.match(gone.last_error ?? "", /dave is no longer in the hive/);
    assert.equal(gone.attempt_count, 0);
    h.roster.set(["alice", "bob", "carol", "dave"]);
  });
});

describe("a graceful stop in the middle of deliveries delivers nothing twice", () => {
  const t = useHive();

  for (const [what, stopGraceMs] of [
    ["those on the way finish", 3000],
    ["those on the way are abandoned, and sent again at the next start", 0],
  ] as const) {
    it(what, async () => {
      const { h } = t;
      const owner = stopGraceMs === 0 ? "bob" : "alice";
      await h.restartScheduler({ stopGraceMs });
      const mail = inbox(h.nc, owner);
      const ids = insertDue(h.scheduler.store, owner, 300, h.clock.now() + 1000);
      h.scheduler.deliverer.changed();
      await h.clock.advance(1000);
      assert.equal(h.scheduler.deliverer.inFlight, 64, "64 on the way at once");
      await h.stopScheduler();
      const recorded = deliveredIn(h.schedulerDb, owner);
      const stored = brokerMail(h.brokerDb).filter((m) => m.recipient === owner).length;
      if (stopGraceMs > 0) assert.equal(recorded, stored, "every one on the way was recorded");
      else assert.ok(recorded < 64, "those on the way were left unrecorded");
      await h.restartScheduler();
      await waitUntil(() => ids.every((id) => h.scheduler.store.get(id)?.delivered_count === 1), {
        what: "every occurrence recorded",
        timeoutMs: 20_000,
      });
      await mail.count(300, "announcements");
      const all = brokerMail(h.brokerDb).filter((m) => m.recipient === owner);
      assert.equal(all.length, 300, "one message per reminder");
      assert.deepEqual(
        all.map((m) => m.client_id).sort(),
        ids.map((id) => clientId(id, 1, h.scheduler.store.tag)).sort(),
      );
      assert.equal(mail.seen.length, 300, "announced once each: no second copy was stored");
      console.log(
        `graceful stop (${what}): at the stop ${stored} of 300 were in the broker and ` +
          `${recorded} recorded; the restart sent the rest (${stored - recorded} as duplicates)`,
      );
      for (const id of ids) h.scheduler.store.cancel(id, h.clock.now());
      h.scheduler.deliverer.changed();
      mail.stop();
    });
  }
});
