import assert from "node:assert/strict";
import { publishEvent, ReminderEvent, rpcs, serve, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { DashboardEvents, SNAPSHOT_PENDING_LIMIT } from "../src/wire.js";
import { failedTry, landed, reminder } from "./fixtures.js";
import { deferred, harnessScope } from "./helpers.js";
import { SchedulerStandIn } from "./scheduler-standin.js";
import { SseClient } from "./sse-client.js";

describe("reminders on /api/events (the scheduler stood in for on NATS)", () => {
  const t = harnessScope();

  it("puts every agent's counts and the failing reminders in the snapshot", async () => {
    const failing = failedTry(reminder(2, "bob", { due_at: Date.now() - 9000 }), "timeout: 5 s");
    const s = new SchedulerStandIn(
      t.h.nc,
      ["alice", "bob"],
      [
        reminder(1, "alice"),
        failing,
        reminder(3, "alice", { state: "delivered", delivered_count: 1, last_delivered_at: 1 }),
        reminder(4, "bob", { every_seconds: 3600, delivered_count: 4, last_delivered_at: 1 }),
      ],
    );
    for (const svc of s.services()) await t.keep(svc);
    const url = await t.h.listen();
    const sse = await SseClient.open(`${url}/api/events`);
    const snap = await sse.take(DashboardEvents, "snapshot");
    assert.deepEqual(snap.reminders, {
      counts: [
        { agent: "alice", pending: 1, delivered: 1, failing: 0 },
        { agent: "bob", pending: 2, delivered: 4, failing: 1 },
      ],
      failing: [failing],
    });
    assert.equal(snap.errors.reminders, null);
    assert.deepEqual(s.counts.seen, [{ subject: subjects.op.reminderCounts, req: {} }]);
    assert.deepEqual(
      s.list.seen.map((x) => x.req),
      [{ limit: SNAPSHOT_PENDING_LIMIT }],
      "the pending ones, as many as the scheduler sends, to find the failing",
    );
    await sse.close();
  });

  it("forwards each reminder event with its owner's counts; malformed and mismatched ones dropped", async () => {
    const s = new SchedulerStandIn(t.h.nc, ["alice"], []);
    for (const svc of s.services()) await t.keep(svc);
    const url = await t.h.listen();
    const sse = await SseClient.open(`${url}/api/events`);
    await sse.take(DashboardEvents, "snapshot");

    const set = s.change(reminder(7, "alice", { due_at: Date.now() - 1 }));
    const failed = s.change(failedTry(set, "unavailable: no one answers hive.sched.send"));
    // Not JSON; a state the contract does not know; counts of another agent than the owner's.
    t.h.nc.publish(subjects.events.reminders, "{nope");
    t.h.nc.publish(
      subjects.events.reminders,
      JSON.stringify({ reminder: { ...failed, state: "snoozed" }, counts: s.countsOf("alice") }),
    );
    t.h.nc.publish(
      subjects.events.reminders,
      JSON.stringify({ reminder: failed, counts: { ...s.countsOf("alice"), agent: "bob" } }),
    );
    const done = s.change(landed(failed));

    assert.deepEqual(await sse.take(DashboardEvents, "reminder"), {
      reminder: set,
      counts: { agent: "alice", pending: 1, delivered: 0, failing: 0 },
    });
    assert.deepEqual(await sse.take(DashboardEvents, "reminder"), {
      reminder: failed,
      counts: { agent: "alice", pending: 1, delivered: 0, failing: 1 },
    });
    assert.deepEqual(await sse.take(DashboardEvents, "reminder"), {
      reminder: done,
      counts: { agent: "alice", pending: 0, delivered: 1, failing: 0 },
    });
    assert.equal(sse.events.length, 4, "the snapshot and three events: nothing else");
    await sse.close();
  });

  it("holds back a reminder event that arrives during the cold load until after the snapshot", async () => {
    const answer = deferred<void>();
    const asked = deferred<void>();
    await t.keep(
      serve(t.h.nc, subjects.op.reminderCounts, rpcs.opReminderCounts, async () => {
        asked.resolve();
        await answer.promise;
        return { counts: [{ agent: "alice", pending: 1, delivered: 0, failing: 0 }] };
      }),
    );
    await t.keep(
      serve(t.h.nc, subjects.op.reminders, rpcs.opReminders, () => ({
        reminders: [],
        truncated: false,
      })),
    );
    const url = await t.h.listen();
    const sse = await SseClient.open(`${url}/api/events`);
    await asked.promise;
    const r = reminder(9, "alice");
    publishEvent(t.h.nc, subjects.events.reminders, ReminderEvent, {
      reminder: r,
      counts: { agent: "alice", pending: 1, delivered: 0, failing: 0 },
    });
    await t.h.nc.flush();
    answer.resolve();
    const first = await sse.next();
    assert.equal(first.event, "snapshot", "the snapshot first");
    const ev = await sse.take(DashboardEvents, "reminder");
    assert.equal(ev.reminder.id, 9, "then what came meanwhile");
    await sse.close();
  });
});
