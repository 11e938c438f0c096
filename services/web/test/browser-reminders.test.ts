import assert from "node:assert/strict";
import { ErrorCode, HiveError, rpcs, serve, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { browserScope, dataIds, failedLoad } from "./chromium.js";
import { agentInfo, failedTry, landed, reminder } from "./fixtures.js";
import { TOKEN } from "./helpers.js";
import { SchedulerStandIn } from "./scheduler-standin.js";

const NO_BROKER = "unavailable: no one answers hive.sched.send";
const FULL =
  "alice has 100 pending reminders; at most 100 may be pending per agent: cancel some " +
  "(list_my_reminders, cancel_reminder) first";

describe("reminders on the dashboard and an agent's page, in a real headless Chromium (the scheduler stood in for)", () => {
  let s: SchedulerStandIn;
  const t = browserScope((h) => {
    const now = Date.now();
    s = new SchedulerStandIn(
      h.nc,
      ["manager", "alice", "bob"],
      [
        reminder(1, "alice", { body: "check the canary", due_at: now + 600_000 }),
        reminder(2, "alice", {
          body: "summarise the inbox",
          created_by: "alice",
          every_seconds: 3600,
          delivered_count: 3,
          last_delivered_at: now - 300_000,
          due_at: now + 3_300_000,
        }),
        failedTry(
          failedTry(
            reminder(3, "bob", { body: "rotate the logs", due_at: now - 60_000 }),
            NO_BROKER,
          ),
          NO_BROKER,
          40_000,
        ),
        reminder(4, "alice", { state: "delivered", delivered_count: 1, last_delivered_at: now }),
      ],
    );
    return [
      s,
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: ["manager", "alice", "bob"].map((n) => agentInfo(n)),
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, () => ({ approvals: [] })),
      serve(h.nc, subjects.op.questions, rpcs.opQuestions, () => ({ questions: [] })),
      serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
    ];
  });

  const chip = (agent: string, text: string) =>
    t.page
      .locator(`#agents tr[data-agent="${agent}"] .chip.reminders`, { hasText: text })
      .waitFor();
  const banner = (agent: string) =>
    t.page.locator(`#agents tr.reminder-banner[data-reminders-of="${agent}"]`);

  it("shows each agent's pending and delivered counts on its row, moving with the events, never asking again", async () => {
    await t.page.goto(`${t.url}/?token=${TOKEN}`);
    await chip("alice", "2 pending · 4 delivered");
    await chip("manager", "0 pending · 0 delivered");
    await chip("bob", "1 pending · 0 delivered · 1 failing");
    const alice = t.page.locator('#agents tr[data-agent="alice"] .chip.reminders');
    assert.deepEqual(
      await alice.evaluate((e) => [e.dataset.pending, e.dataset.delivered, e.dataset.failing]),
      ["2", "4", "0"],
    );

    s.change(reminder(10, "alice", { body: "water the plants" }));
    await chip("alice", "3 pending · 4 delivered");
    s.change(landed(s.get(1)));
    await chip("alice", "2 pending · 5 delivered");
    // The manager had none: its first one brings its counts.
    s.change(reminder(11, "manager", { body: "weekly review", every_seconds: 604_800 }));
    await chip("manager", "1 pending · 0 delivered");
    assert.equal(s.counts.seen.length, 1, "the counts came with the snapshot, then by events");
    assert.equal(s.list.seen.length, 1, "the failing ones too");
  });

  it("shows a banner under the row of an agent whose reminder fails, with its error, tries and next try; retry now asks the scheduler, and the banner goes when it lands", async () => {
    const bob = banner("bob");
    await bob.waitFor();
    assert.equal(await banner("alice").count(), 0, "alice's reminders land");
    const item = bob.locator('li[data-id="3"]');
    assert.equal(await item.locator(".reminder-text").textContent(), "rotate the logs");
    assert.equal(await item.locator(".last-error").textContent(), NO_BROKER);
    assert.equal(await item.locator(".attempts").textContent(), "2 failed tries");
    assert.match((await item.locator(".next-try").textContent()) ?? "", /^next try in [1-4]\ds$/);
    await t.page.screenshot({ path: "/tmp/hive-reminders.png", fullPage: true });

    await item.locator("button.retry-reminder").click();
    await item.locator(".status", { hasText: "trying now" }).waitFor();
    assert.deepEqual(s.retry.seen, [{ subject: subjects.op.retryReminder, req: { id: 3 } }]);
    assert.match((await item.locator(".next-try").textContent()) ?? "", /^next try in [01]s$/);
    assert.equal(await bob.count(), 1, "still failing until the scheduler says otherwise");

    // The try fails again: the banner says so. Then it lands: the banner goes, the chip moves.
    s.change(failedTry(s.get(3), "timeout: no reply from hive.sched.send in 5 s"));
    await item.locator(".attempts", { hasText: "3 failed tries" }).waitFor();
    assert.equal(
      await item.locator(".last-error").textContent(),
      "timeout: no reply from hive.sched.send in 5 s",
    );
    s.change(landed(s.get(3)));
    await bob.waitFor({ state: "detached" });
    await chip("bob", "0 pending · 1 delivered");
    assert.equal(await t.page.locator("#agents .chip.reminders.failing").count(), 0);

    // A new failure shows live.
    const overdue = reminder(12, "alice", { body: "ping the oncall", due_at: Date.now() - 1000 });
    s.change(failedTry(overdue, "body_too_large: x"));
    await banner("alice")
      .locator('li[data-id="12"] .last-error', { hasText: "body_too_large" })
      .waitFor();
    await chip("alice", "3 pending · 5 delivered · 1 failing");
    assert.equal(s.list.seen.length, 1, "no refetch: the events carry every change");
  });

  it("lists an agent's reminders on its page — due, repeat, state, deliveries, failures — and cancels one", async () => {
    await t.page.goto(`${t.url}/agents/alice`);
    await t.page.locator('#reminders li[data-id="2"]').waitFor();
    assert.deepEqual(s.list.seen.at(-1)?.req, { agent: "alice", all: true });
    assert.deepEqual(
      await dataIds(t.page, "#reminders > li"),
      ["12", "10", "2", "1", "4"],
      "pending soonest due first (the failing one is overdue), then finished, the latest first",
    );
    assert.equal(await t.page.locator("#reminders-count").textContent(), "3");
    await t.page.locator("#agent-reminders", { hasText: "3 pending · 5 delivered" }).waitFor();

    const repeating = t.page.locator('#reminders li[data-id="2"]');
    assert.equal(await repeating.locator(".reminder-state").textContent(), "pending");
    assert.equal(await repeating.locator(".repeat").textContent(), "every 1h");
    assert.equal(await repeating.locator(".set-by").textContent(), "set by alice");
    assert.match((await repeating.locator(".when").textContent()) ?? "", /^due in 5[45]m/);
    assert.equal(await repeating.locator(".delivered").textContent(), "delivered 3×, last 5m ago");
    const failing = t.page.locator('#reminders li[data-id="12"]');
    assert.equal(await failing.locator(".last-error").textContent(), "body_too_large: x");
    assert.equal(await failing.locator(".attempts").textContent(), "1 failed try");
    const done = t.page.locator('#reminders li[data-id="1"]');
    assert.equal(await done.locator(".reminder-state").textContent(), "delivered");
    assert.equal(await done.locator(".repeat").textContent(), "once");
    assert.equal(await done.locator("button.cancel-reminder").count(), 0, "nothing to cancel");

    await t.page.locator('#reminders li[data-id="10"] button.cancel-reminder').click();
    await t.page.locator('#reminders li[data-id="10"][data-state="cancelled"]').waitFor();
    assert.deepEqual(s.cancel.seen, [{ subject: subjects.op.cancelReminder, req: { id: 10 } }]);
    await t.page.locator("#agent-reminders", { hasText: "2 pending · 5 delivered" }).waitFor();

    // Cancelled behind the page's back, its event lost: the refusal shows inline.
    s.reminders.set(12, { ...s.get(12), state: "cancelled", cancelled_at: Date.now() });
    await failing.locator("button.cancel-reminder").click();
    const problem = failing.locator('[role="alert"]:not([hidden])');
    await problem.waitFor();
    assert.equal(await problem.textContent(), "conflict: reminder #12 is cancelled already");
    assert.deepEqual(t.errors.splice(0), [failedLoad(409, "Conflict")]);

    // One set elsewhere (the agent's own `remind`) shows live, without a reload of the list.
    const lists = s.list.seen.length;
    s.change(
      reminder(13, "alice", { created_by: "alice", body: "stretch", due_at: Date.now() + 5000 }),
    );
    await t.page
      .locator('#reminders li[data-id="13"] .set-by', { hasText: "set by alice" })
      .waitFor();
    assert.equal(s.list.seen.length, lists);
  });

  it("sets a reminder for the agent from its page — in N minutes, or at a time repeating — and shows a refusal inline", async () => {
    await t.page.locator("#remind-body").fill("check the deploy");
    await t.page.locator("#remind-in").fill("15");
    await t.page.locator("#remind-button").click();
    await t.page.locator("#remind-status", { hasText: /^set #\d+, due in 1[45]m/ }).waitFor();
    assert.deepEqual(s.remind.seen.at(-1)?.req, {
      agent: "alice",
      body: "check the deploy",
      in_seconds: 900,
    });
    const made = [...s.reminders.values()].at(-1);
    assert.ok(made);
    await t.page
      .locator(`#reminders li[data-id="${made.id}"]`, { hasText: "check the deploy" })
      .waitFor();
    assert.equal(await t.page.locator("#remind-body").inputValue(), "", "the form is cleared");

    // At a time, repeating every 2 hours: the local time picked goes out as an ISO time.
    await t.page.locator("#remind-body").fill("nightly backup check");
    await t.page.locator("#remind-mode-at").check();
    assert.equal(await t.page.locator("#remind-in").isDisabled(), true);
    const local = "2031-03-04T05:06:07";
    await t.page.locator("#remind-at").fill(local);
    await t.page.locator("#remind-repeat").check();
    await t.page.locator("#remind-every").fill("2");
    await t.page.locator("#remind-button").click();
    await waitUntil(() => s.remind.seen.length === 2, { what: "the second remind" });
    const iso = await t.page.evaluate((v) => new Date(v).toISOString(), local);
    assert.deepEqual(s.remind.seen.at(-1)?.req, {
      agent: "alice",
      body: "nightly backup check",
      at: iso,
      every_seconds: 7200,
    });
    const weekly = [...s.reminders.values()].at(-1);
    assert.ok(weekly);
    await t.page
      .locator(`#reminders li[data-id="${weekly.id}"] .repeat`, { hasText: "every 2h" })
      .waitFor();

    // The scheduler refuses: the limit, in its words, under the form; the text stays.
    s.refusal = new HiveError(ErrorCode.LimitExceeded, FULL);
    await t.page.locator("#remind-body").fill("one too many");
    await t.page.locator("#remind-button").click();
    const refused = t.page.locator('#remind-form [role="alert"]:not([hidden])');
    await refused.waitFor();
    assert.equal(await refused.textContent(), `limit_exceeded: ${FULL}`);
    assert.equal(await refused.getAttribute("data-code"), "limit_exceeded");
    assert.equal(await t.page.locator("#remind-body").inputValue(), "one too many");
    assert.deepEqual(t.errors.splice(0), [failedLoad(429, "Too Many Requests")]);
    s.refusal = null;
    assert.equal(s.remind.seen.length, 3);
    await t.page.screenshot({ path: "/tmp/hive-agent-reminders.png", fullPage: true });
  });
});
