import assert from "node:assert/strict";
import type { Reminder } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { isFailing, mergeReminders, notBehind, reminderOrder } from "../src/reminder-model.js";
import { failedTry, landed, reminder } from "./fixtures.js";

describe("the reminders' model", () => {
  const set = reminder(1, "alice");
  const failed = failedTry(set, "unavailable: no broker");
  const failedTwice = failedTry(failed, "timeout: 5 s");
  const retried: Reminder = { ...failedTwice, retry_at: Date.now() };
  const delivered = landed(failedTwice);
  const cancelled: Reminder = { ...failed, state: "cancelled", cancelled_at: Date.now() };

  it("calls a pending reminder with a failed try failing, and nothing else", () => {
    assert.equal(isFailing(set), false);
    assert.equal(isFailing(failed), true);
    assert.equal(isFailing(retried), true, "a retry does not make it land");
    assert.equal(isFailing(delivered), false);
    assert.equal(isFailing(cancelled), false, "a cancelled one waits for nothing");
    assert.equal(
      isFailing(landed(failedTry(reminder(2, "bob", { every_seconds: 60 }), "x"))),
      false,
    );
  });

  it("never moves a reminder back: failed tries, deliveries and an end only go forward", () => {
    const forward = [set, failed, failedTwice, delivered];
    for (let i = 0; i < forward.length; i++) {
      for (let j = 0; j < forward.length; j++) {
        const [a, b] = [forward[i], forward[j]];
        assert.ok(a && b);
        assert.equal(notBehind(a, b), j >= i, `${i} -> ${j}`);
      }
    }
    assert.equal(notBehind(failedTwice, retried), true, "a retry is as far along: it replaces");
    assert.equal(notBehind(retried, failedTwice), true, "…and the later to arrive wins");
    assert.equal(notBehind(cancelled, failedTwice), false, "cancelled is final");
    // A repeating one: its second occurrence failing is ahead of its first one delivered.
    const every = reminder(3, "bob", { every_seconds: 3600 });
    const once = landed(every);
    assert.equal(notBehind(once, failedTry(once, "x")), true);
    assert.equal(notBehind(failedTry(once, "x"), every), false);
  });

  it("merges by id, keeping the copy further along, and the same map when nothing changed", () => {
    const known = mergeReminders(new Map(), [failed, reminder(2, "bob")]);
    assert.deepEqual([...known.keys()], [1, 2]);
    const stale = mergeReminders(known, [set]);
    assert.equal(stale, known, "a stale copy changes nothing, not even the map");
    const moved = mergeReminders(known, [delivered, set, reminder(5, "carol")]);
    assert.notEqual(moved, known);
    assert.equal(moved.get(1), delivered, "a later stale copy in the same batch is not taken");
    assert.deepEqual([...moved.keys()], [1, 2, 5]);
    assert.equal(known.get(1), failed, "the old map is left as it was");
  });

  it("lists pending ones soonest due first, then finished ones, the latest first", () => {
    const now = Date.now();
    const rs = [
      reminder(1, "alice", { due_at: now + 60_000 }),
      reminder(2, "alice", { state: "delivered", last_delivered_at: now - 5000 }),
      failedTry(reminder(3, "alice", { due_at: now - 1000 }), "x"),
      reminder(4, "alice", { state: "cancelled", cancelled_at: now - 1000 }),
      reminder(5, "alice", { due_at: now + 1000 }),
    ];
    assert.deepEqual(
      rs.sort(reminderOrder).map((r) => r.id),
      [3, 5, 1, 4, 2],
    );
  });
});
