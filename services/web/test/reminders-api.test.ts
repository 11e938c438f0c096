import assert from "node:assert/strict";
import { ErrorCode, HiveError, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApiError, api } from "../src/wire.js";
import { failedTry, reminder } from "./fixtures.js";
import { call, expectBadBodies, harnessScope, noInterest } from "./helpers.js";
import { SchedulerStandIn } from "./scheduler-standin.js";

const apiError = (json: unknown) => ApiError.parse(json).error;

/** The limit message the scheduler gives when an agent has too many pending. */
const FULL =
  "alice has 100 pending reminders; at most 100 may be pending per agent: cancel some " +
  "(list_my_reminders, cancel_reminder) first";

describe("reminders API (the scheduler stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });

  /** The scheduler's operator subjects over #1 (alice, pending), #2 (bob, failing), #3 (done). */
  const scheduler = async () => {
    const s = new SchedulerStandIn(
      t.h.nc,
      ["alice", "bob"],
      [
        reminder(1, "alice"),
        failedTry(reminder(2, "bob", { due_at: Date.now() - 5000 }), "unavailable: no broker"),
        reminder(3, "alice", { state: "delivered", delivered_count: 1, last_delivered_at: 1 }),
      ],
    );
    for (const svc of s.services()) await t.keep(svc);
    return s;
  };

  /** The subjects of everything the scheduler was asked, in order per subject. */
  const asked = (s: SchedulerStandIn) =>
    [s.list, s.counts, s.remind, s.cancel, s.retry].flatMap((r) => r.seen.map((x) => x.subject));

  it("GET /api/reminders asks hive.op.reminders with ?agent, ?all and ?limit as given", async () => {
    const s = await scheduler();
    const pending = await call(t.h.app, "GET", api.reminders.path);
    assert.equal(pending.status, 200);
    assert.deepEqual(
      api.reminders.reply.parse(pending.json()).reminders.map((r) => r.id),
      [2, 1],
      "pending ones, soonest due first",
    );
    const alice = await call(t.h.app, "GET", `${api.reminders.path}?agent=alice&all=true&limit=5`);
    assert.equal(alice.status, 200);
    const body = api.reminders.reply.parse(alice.json());
    assert.deepEqual(
      body.reminders.map((r) => [r.id, r.state]),
      [
        [1, "pending"],
        [3, "delivered"],
      ],
    );
    assert.equal(body.truncated, false);
    const cut = api.reminders.reply.parse(
      (await call(t.h.app, "GET", `${api.reminders.path}?all=true&limit=1`)).json(),
    );
    assert.equal(cut.truncated, true);
    assert.deepEqual(
      s.list.seen.map((x) => x.req),
      [{}, { agent: "alice", all: true, limit: 5 }, { all: true, limit: 1 }],
    );
  });

  it("refuses malformed reminder queries with a typed 400, asking nothing", async () => {
    const s = await scheduler();
    const bad = [
      "?agent=Alice!",
      "?agent=",
      "?all=maybe",
      "?limit=0",
      "?limit=1001",
      "?limit=2.5",
      "?limit=many",
      "?state=pending",
      "?agent=alice&agent=bob",
    ];
    for (const query of bad) {
      const r = await call(t.h.app, "GET", `${api.reminders.path}${query}`);
      assert.equal(r.status, 400, query);
      const e = apiError(r.json());
      assert.equal(e.code, "bad_request", query);
      assert.match(e.message, /^querystring/, query);
    }
    const counts = await call(t.h.app, "GET", `${api.reminderCounts.path}?agent=alice`);
    assert.equal(counts.status, 400);
    assert.deepEqual(asked(s), [], "no invalid query reached the scheduler");
  });

  it("GET /api/reminders/counts asks hive.op.reminder_counts", async () => {
    const s = await scheduler();
    const r = await call(t.h.app, "GET", api.reminderCounts.path);
    assert.equal(r.status, 200);
    assert.deepEqual(api.reminderCounts.reply.parse(r.json()).counts, [
      { agent: "alice", pending: 1, delivered: 1, failing: 0 },
      { agent: "bob", pending: 1, delivered: 0, failing: 1 },
    ]);
    assert.deepEqual(s.counts.seen, [{ subject: subjects.op.reminderCounts, req: {} }]);
  });

  it("sets a reminder for an agent: in N seconds, or at a time, repeating — as the operator", async () => {
    const s = await scheduler();
    const inTen = await call(t.h.app, "POST", api.remind.url("alice"), {
      body: { body: "check the deploy", in_seconds: 600 },
    });
    assert.equal(inTen.status, 200);
    const made = api.remind.reply.parse(inTen.json()).reminder;
    assert.equal(made.owner, "alice");
    assert.equal(made.created_by, "operator");
    const at = "2030-01-02T09:00:00+01:00";
    const weekly = await call(t.h.app, "POST", api.remind.url("bob"), {
      body: { body: "standup notes", at, every_seconds: 7 * 86_400 },
    });
    assert.equal(weekly.status, 200);
    assert.equal(api.remind.reply.parse(weekly.json()).reminder.every_seconds, 604_800);
    assert.deepEqual(s.remind.seen, [
      {
        subject: subjects.op.remind,
        req: { agent: "alice", body: "check the deploy", in_seconds: 600 },
      },
      {
        subject: subjects.op.remind,
        req: { agent: "bob", body: "standup notes", at, every_seconds: 604_800 },
      },
    ]);
  });

  it("refuses malformed reminders with a typed 400 that reaches nobody", async () => {
    const s = await scheduler();
    await expectBadBodies(t.h.app, api.remind.url("alice"), [
      [{ body: "x" }, /exactly one of in_seconds or at/],
      [
        { body: "x", in_seconds: 60, at: "2030-01-01T00:00:00Z" },
        /exactly one of in_seconds or at/,
      ],
      [{ body: "x", in_seconds: 0 }, /body\.in_seconds/],
      [{ body: "x", in_seconds: 1.5 }, /body\.in_seconds/],
      [{ body: "x", in_seconds: "60" }, /body\.in_seconds/],
      [{ body: "x", at: "tomorrow" }, /body\.at/],
      [{ body: "x", at: "2030-01-01T00:00:00" }, /body\.at/],
      [{ body: "x", in_seconds: 60, every_seconds: 59 }, /body\.every_seconds/],
      [{ body: "", in_seconds: 60 }, /body\.body/],
      [{ body: "y".repeat(2001), in_seconds: 60 }, /2000 characters/],
      [{ in_seconds: 60 }, /body\.body/],
      // The agent is the path's; a forged owner or author is refused, not dropped.
      [{ body: "x", in_seconds: 60, agent: "bob" }, /agent/],
      [{ body: "x", in_seconds: 60, created_by: "alice" }, /created_by/],
      [[], /body/],
    ]);
    for (const name of ["Alice", "al ice", "-x"]) {
      const r = await call(t.h.app, "POST", `/api/agents/${encodeURIComponent(name)}/remind`, {
        body: { body: "x", in_seconds: 60 },
      });
      assert.equal(r.status, 400, name);
      assert.match(apiError(r.json()).message, /^params\.name/, name);
    }
    assert.deepEqual(asked(s), [], "nothing reached the scheduler");
  });

  it("answers a limit the scheduler refuses with 429 and its words, an unknown agent 404", async () => {
    const s = await scheduler();
    s.refusal = new HiveError(ErrorCode.LimitExceeded, FULL);
    const full = await call(t.h.app, "POST", api.remind.url("alice"), {
      body: { body: "one more", in_seconds: 60 },
    });
    assert.equal(full.status, 429);
    assert.deepEqual(apiError(full.json()), {
      code: "limit_exceeded",
      message: FULL,
      retryable: true,
    });
    s.refusal = null;
    const ghost = await call(t.h.app, "POST", api.remind.url("ghost"), {
      body: { body: "boo", in_seconds: 60 },
    });
    assert.equal(ghost.status, 404);
    assert.equal(apiError(ghost.json()).message, "no agent named ghost");
    assert.equal(s.remind.seen.length, 2);
    assert.equal(s.reminders.size, 3, "nothing was set");
  });

  it("cancels a pending reminder and retries a failing one; conflicts are 409, unknown ids 404", async () => {
    const s = await scheduler();
    const cancel = await call(t.h.app, "POST", api.cancelReminder.url(1), { body: {} });
    assert.equal(cancel.status, 200);
    assert.equal(api.cancelReminder.reply.parse(cancel.json()).reminder.state, "cancelled");
    const again = await call(t.h.app, "POST", api.cancelReminder.url(1), { body: {} });
    assert.equal(again.status, 409);
    assert.equal(apiError(again.json()).message, "reminder #1 is cancelled already");

    const before = Date.now();
    const retry = await call(t.h.app, "POST", api.retryReminder.url(2), { body: {} });
    assert.equal(retry.status, 200);
    const tried = api.retryReminder.reply.parse(retry.json()).reminder;
    assert.ok((tried.retry_at ?? 0) >= before, "the next try is now");
    const notFailing = await call(t.h.app, "POST", api.retryReminder.url(3), { body: {} });
    assert.equal(notFailing.status, 409);
    const unknown = await call(t.h.app, "POST", api.retryReminder.url(99), { body: {} });
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      s.cancel.seen.map((x) => x.req),
      [{ id: 1 }, { id: 1 }],
    );
    assert.deepEqual(
      s.retry.seen.map((x) => x.req),
      [{ id: 2 }, { id: 3 }, { id: 99 }],
    );
  });

  it("refuses malformed ids and bodies on cancel and retry with a typed 400, asking nothing", async () => {
    const s = await scheduler();
    for (const route of [api.cancelReminder, api.retryReminder]) {
      await expectBadBodies(t.h.app, route.url(1), [
        [{ id: 2 }, /body/],
        [{ now: true }, /body/],
        ["1", /body/],
      ]);
      const verb = route.path.split("/").at(-1);
      for (const id of ["0", "-1", "1.5", "abc", "99999999999999999999"]) {
        const r = await call(t.h.app, "POST", `/api/reminders/${id}/${verb}`, { body: {} });
        assert.equal(r.status, 400, `${verb} ${id}`);
        assert.match(apiError(r.json()).message, /^params\.id/, `${verb} ${id}`);
      }
    }
    assert.deepEqual(asked(s), [], "nothing reached the scheduler");
  });

  it("says 503 when no scheduler answers, and 504 when it does not answer in time", async () => {
    assert.ok(await noInterest(t.h, subjects.op.remind));
    const none = await call(t.h.app, "POST", api.remind.url("alice"), {
      body: { body: "x", in_seconds: 60 },
    });
    assert.equal(none.status, 503);
    assert.equal(apiError(none.json()).code, "unavailable");
    const silent = t.h.nc.subscribe(subjects.op.reminders);
    await t.h.nc.flush();
    const slow = await call(t.h.app, "GET", api.reminders.path);
    assert.equal(slow.status, 504);
    silent.unsubscribe();
  });
});
