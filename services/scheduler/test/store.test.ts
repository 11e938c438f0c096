import assert from "node:assert/strict";
import { createLogger, type Db, openDatabase, type Reminder } from "@hyperhive/shared";
import { TestClock, UNTOUCHED_REMINDER } from "@hyperhive/shared/testing";
import { afterEach, beforeEach, describe, it } from "vitest";
import { duration, LATE_AFTER_MS, occurrence } from "../src/message.js";
import { Retention } from "../src/retention.js";
import { migrations, ReminderStore } from "../src/store.js";

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);

describe("the store: counts, guards, indexes", () => {
  let db: Db;
  let store: ReminderStore;
  beforeEach(() => {
    db = openDatabase(":memory:", migrations);
    store = new ReminderStore(db);
  });
  afterEach(() => db.close());

  const add = (owner: string, dueAt: number, everySeconds: number | null = null): Reminder =>
    store.insert({ owner, body: "b", createdBy: owner, createdAt: T0, dueAt, everySeconds });

  it("keeps each owner's pending, delivered and failing counts exact through every change", () => {
    const once = add("alice", T0 + 1000);
    const every = add("alice", T0 + 2000, 60);
    add("bob", T0 + 3000);
    const c = () => store.counts("alice");
    assert.deepEqual(c(), { agent: "alice", pending: 2, delivered: 0, failing: 0 });
    assert.ok(store.failed(once.id, 1, "unavailable: down", T0 + 5000));
    assert.ok(store.failed(once.id, 1, "unavailable: down", T0 + 7000));
    assert.deepEqual(c(), { agent: "alice", pending: 2, delivered: 0, failing: 1 });
    assert.ok(store.delivered(once.id, 1, T0 + 7000, null));
    assert.deepEqual(c(), { agent: "alice", pending: 1, delivered: 1, failing: 0 });
    assert.ok(store.delivered(every.id, 1, T0 + 2000, T0 + 62_000));
    assert.ok(store.delivered(every.id, 2, T0 + 62_000, T0 + 122_000));
    assert.deepEqual(c(), { agent: "alice", pending: 1, delivered: 3, failing: 0 });
    assert.ok(store.cancel(every.id, T0 + 100_000));
    assert.deepEqual(c(), { agent: "alice", pending: 0, delivered: 3, failing: 0 });
    assert.deepEqual(store.counts("nobody"), {
      agent: "nobody",
      pending: 0,
      delivered: 0,
      failing: 0,
    });
    assert.deepEqual(
      store.allCounts().map((x) => [x.agent, x.pending]),
      [
        ["alice", 0],
        ["bob", 1],
      ],
    );
    assert.equal(store.pendingTotal(), 1);
  });

  it("records an occurrence once: a repeat or a late record of an older one changes nothing", () => {
    const r = add("alice", T0, 60);
    assert.ok(store.delivered(r.id, 1, T0, T0 + 60_000));
    assert.equal(store.delivered(r.id, 1, T0 + 5, T0 + 60_000), false);
    assert.equal(store.failed(r.id, 1, "late news", T0 + 9), false);
    assert.deepEqual([store.get(r.id)?.delivered_count, store.get(r.id)?.attempt_count], [1, 0]);
    // Cancelled while an occurrence was on the way: the delivery still counts, the state stays.
    assert.ok(store.cancel(r.id, T0 + 10));
    assert.ok(store.delivered(r.id, 2, T0 + 60_000, T0 + 120_000));
    const after = store.get(r.id)!;
    assert.deepEqual(
      [after.state, after.delivered_count, after.due_at],
      ["cancelled", 2, T0 + 60_000],
    );
    assert.equal(store.cancel(r.id, T0 + 11), false, "cancelled once");
  });

  it("the timer's probe and the due scan are index searches, not scans of the table", () => {
    const plan = (sql: string) =>
      db
        .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((r) => r.detail)
        .join("; ");
    assert.match(
      plan(
        "SELECT id, next_at FROM reminders WHERE state = 'pending' ORDER BY next_at, id LIMIT 1",
      ),
      /USING INDEX reminders_next/,
    );
    assert.match(
      plan(
        "SELECT * FROM reminders WHERE state = 'pending' AND next_at <= 1 ORDER BY next_at, id LIMIT 9",
      ),
      /SEARCH reminders USING INDEX reminders_next \(next_at<\?\)/,
    );
  });

  it("a failed try moves the next try, not the due time; a retry now brings it forward", () => {
    const r = add("alice", T0 + 1000);
    store.failed(r.id, 1, "timeout", T0 + 9000);
    assert.deepEqual(store.earliest(1), [{ id: r.id, next_at: T0 + 9000 }]);
    assert.equal(store.due(T0 + 8999, 10).length, 0);
    assert.ok(store.retryNow(r.id, T0 + 2000));
    assert.deepEqual(store.earliest(1), [{ id: r.id, next_at: T0 + 2000 }]);
    const fine = add("bob", T0 + 5000);
    assert.equal(store.retryNow(fine.id, T0), false, "only a failing one");
  });

  it("retention: finished reminders older than the age go, at most hourly; counts stay", async () => {
    const clock = new TestClock(T0);
    const log = createLogger("scheduler", { level: "silent" });
    const retention = new Retention({ store, clock, log, maxAgeMs: 86_400_000 });
    const done = add("alice", T0);
    store.delivered(done.id, 1, T0, null);
    const gone = add("alice", T0 + 5000);
    store.cancel(gone.id, T0 + 1000);
    const waiting = add("alice", T0 + 30 * 86_400_000);
    const counts = store.counts("alice");
    await clock.advance(86_400_000);
    retention.maybe();
    assert.ok(store.get(done.id), "a day old exactly: kept");
    // An hour later: both are over a day old, and the hour has passed.
    await clock.advance(1000);
    retention.maybe();
    assert.ok(store.get(done.id), "not again within the hour");
    await clock.advance(3600_000);
    retention.maybe();
    assert.equal(store.get(done.id), undefined);
    assert.equal(store.get(gone.id), undefined);
    assert.ok(store.get(waiting.id), "pending ones are never swept");
    assert.deepEqual(store.counts("alice"), counts, "delivered is all-time");
  });

  it("each file draws its own tag", () => {
    const other = openDatabase(":memory:", migrations);
    assert.match(store.tag, /^[0-9a-f]{8}$/);
    assert.notEqual(new ReminderStore(other).tag, store.tag);
    other.close();
  });
});

describe("the message of an occurrence", () => {
  const reminder = (over: Partial<Reminder>): Reminder => ({
    id: 12,
    owner: "alice",
    body: "check the build",
    created_by: "alice",
    created_at: T0 - 60_000,
    due_at: T0,
    ...UNTOUCHED_REMINDER,
    ...over,
  });

  it("on time: the id and the text, nothing else", () => {
    const o = occurrence(reminder({}), T0 + LATE_AFTER_MS - 1, "abcd0123");
    assert.deepEqual(o, {
      n: 1,
      clientId: "reminder-12-1-abcd0123",
      body: "reminder #12: check the build",
      next: null,
    });
  });

  it("late: by how much and when it was due", () => {
    const o = occurrence(reminder({ delivered_count: 4 }), T0 + 3 * 86_400_000 + 7200_000, "t");
    assert.equal(o.n, 5);
    assert.equal(o.clientId, "reminder-12-5-t");
    assert.equal(
      o.body,
      "reminder #12: check the build\n(late by 3d 2h: it was due at 2026-12-04T09:00:00.000Z)",
    );
  });

  it("repeating: the next due; one missed period skipped, said in the singular", () => {
    const r = reminder({ every_seconds: 3600 });
    assert.equal(occurrence(r, T0 + 3, "t").next, T0 + 3600_000);
    const o = occurrence(r, T0 + 3600_000 + 60_000, "t");
    assert.equal(o.next, T0 + 2 * 3600_000);
    assert.equal(
      o.body,
      "reminder #12: check the build\n(late by 1h 1m: it was due at 2026-12-04T09:00:00.000Z)\n" +
        "(1 later occurrence fell due meanwhile and was skipped)\n" +
        "(repeats every 1h; next due 2026-12-04T11:00:00.000Z)",
    );
  });

  it("durations in their two largest units", () => {
    assert.equal(duration(0), "0s");
    assert.equal(duration(59_999), "59s");
    assert.equal(duration(60_000), "1m");
    assert.equal(duration(3_723_000), "1h 2m");
    assert.equal(duration(86_400_000 + 5000), "1d");
  });
});
