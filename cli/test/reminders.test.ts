import assert from "node:assert/strict";
import {
  AgentsListResponse,
  OperatorRemindRequest,
  ReminderResponse,
  RemindersResponse,
} from "@hyperhive/shared";
import { describe, it } from "vitest";
import { useFakeHive } from "./fake-hive.js";
import { FAILING_ERROR, sampleReminders, T0 } from "./fake-reminders.js";

/** A time as the list commands print it (UTC, to the second). */
const utc = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
/** A regex source for text taken literally. */
const lit = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The operator's reminder commands — `reminders`, `remind`, `cancel-reminder`, `retry-reminder`,
 * and the REMINDERS column of `agents` — as real `hive` processes against a stand-in for the
 * scheduler on a real nats-server: the exact subject and payload, the text (a failing reminder
 * standing out) and `--json` output, the scheduler's refusals in one line.
 */
describe("reminders (the scheduler stood in for)", () => {
  const hive = useFakeHive();

  it("reminders: pending ones soonest first; a failing one marked FAILING, with its tries and last error under the table", async () => {
    const r = await hive.asked("reminders");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.reminders", payload: {} }]);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 5, r.stdout);
    assert.match(lines[0] ?? "", /^ID\s+AGENT\s+DUE\s+EVERY\s+STATE\s+DELIVERED\s+TEXT$/);
    assert.match(
      lines[1] ?? "",
      new RegExp(
        `^3\\s+alice\\s+${lit(utc(T0 - 60_000))} \\(1m ago\\)\\s+1d\\s+FAILING\\s+2\\s+standup notes$`,
      ),
    );
    assert.match(
      lines[2] ?? "",
      new RegExp(
        `^4\\s+manager\\s+${lit(utc(T0 + 120_000))} \\(in 2m\\)\\s+-\\s+pending\\s+0\\s+check the build$`,
      ),
    );
    assert.match(
      lines[3] ?? "",
      new RegExp(
        `^2\\s+alice\\s+${lit(utc(T0 + 3_600_000))} \\(in 1h\\)\\s+1h30m\\s+pending\\s+4\\s+water the plants the ones by the window$`,
      ),
    );
    assert.equal(
      lines[4],
      `FAILING #3 for alice: 3 failed tries, the last: ${FAILING_ERROR}; next try ${utc(T0 + 600_000)} (in 10m); hive retry-reminder 3 tries it now`,
    );
    const json = await hive.cli("reminders", "--json");
    assert.deepEqual(RemindersResponse.parse(JSON.parse(json.stdout)), {
      reminders: sampleReminders().filter((x) => x.state === "pending"),
      truncated: false,
    });
  });

  it("reminders --all adds the finished ones; --agent and --limit go to the scheduler, a cut list says so in one line", async () => {
    const all = await hive.asked("reminders", "--all");
    assert.deepEqual(all.calls, [{ subject: "hive.op.reminders", payload: { all: true } }]);
    const rows = all.stdout.split("\n").filter((l) => /^\d/.test(l));
    assert.deepEqual(
      rows.map((l) => l.split(/\s+/)[0]),
      ["3", "4", "2", "5", "1"],
    );
    assert.match(all.stdout, /^5\s+carol\s+.+\s+-\s+cancelled\s+0\s+ping bob$/m);
    assert.match(all.stdout, /^1\s+manager\s+.+ \(2h ago\)\s+-\s+delivered\s+1\s+read the notes$/m);
    const json = await hive.cli("reminders", "--all", "--json");
    assert.deepEqual(RemindersResponse.parse(JSON.parse(json.stdout)).reminders, sampleReminders());

    const cut = await hive.asked("reminders", "--agent", "alice", "--limit", "1");
    assert.equal(cut.code, 0, cut.stderr);
    assert.deepEqual(cut.calls, [
      { subject: "hive.op.reminders", payload: { agent: "alice", limit: 1 } },
    ]);
    const lines = cut.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4, cut.stdout);
    assert.match(lines[1] ?? "", /^3\s+alice\s/);
    assert.match(lines[2] ?? "", /^FAILING #3 for alice: /);
    assert.equal(
      lines[3],
      "(truncated: there are more than these 1; narrow it with --agent NAME, or raise --limit, up to 1000)",
    );
    const cutJson = RemindersResponse.parse(
      JSON.parse(
        (await hive.cli("reminders", "--agent", "alice", "--limit", "1", "--json")).stdout,
      ),
    );
    assert.equal(cutJson.truncated, true);

    assert.equal(
      (await hive.cli("reminders", "--agent", "carol")).stdout,
      "(no pending reminders for carol)\n",
    );
    assert.equal(
      (await hive.cli("reminders", "--agent", "bob", "--all")).stdout,
      "(no reminders for bob)\n",
    );
    hive.state.reminders.clear();
    assert.equal((await hive.cli("reminders")).stdout, "(no pending reminders)\n");
  });

  it("remind: a duration is in_seconds, a time with its offset at (seconds added, offset kept), --every every_seconds", async () => {
    const before = Date.now();
    const r = await hive.asked("remind", "manager", "10m", "check the logs");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      {
        subject: "hive.op.remind",
        payload: { agent: "manager", body: "check the logs", in_seconds: 600 },
      },
    ]);
    const set = hive.state.reminders.get(6);
    assert.ok(set && set.due_at >= before + 600_000, JSON.stringify(set));
    assert.equal(
      r.stdout,
      `set reminder #6 for manager: due ${utc(set.due_at)} (in 10m): "check the logs"\n`,
    );

    const every = await hive.asked("remind", "alice", "1d2h", "stretch", "--every", "1h30m");
    assert.deepEqual(every.calls[0]?.payload, {
      agent: "alice",
      body: "stretch",
      in_seconds: 93_600,
      every_seconds: 5400,
    });
    assert.match(
      every.stdout,
      /^set reminder #7 for alice: due .+ \(in 1d\), then every 1h30m: "stretch"\n$/,
    );

    const at = await hive.asked("remind", "carol", "2030-01-02T03:04Z", "new year's review");
    assert.deepEqual(at.calls[0]?.payload, {
      agent: "carol",
      body: "new year's review",
      at: "2030-01-02T03:04:00Z",
    });
    assert.match(
      at.stdout,
      /^set reminder #8 for carol: due 2030-01-02 03:04:00 \(in \d+d\): "new year's review"\n$/,
    );
    const offset = await hive.asked(
      "remind",
      "carol",
      "2030-01-02 10:00:30.5+01:00",
      "x",
      "--every",
      "1d",
    );
    assert.deepEqual(offset.calls[0]?.payload, {
      agent: "carol",
      body: "x",
      at: "2030-01-02T10:00:30.5+01:00",
      every_seconds: 86_400,
    });
    assert.match(offset.stdout, /: due 2030-01-02 09:00:30 \(in \d+d\), then every 1d: "x"\n$/);

    const json = await hive.cli("remind", "manager", "90s", "tea", "--json");
    const res = ReminderResponse.parse(JSON.parse(json.stdout));
    assert.deepEqual(res.reminder, hive.state.reminders.get(res.reminder.id), "exactly the reply");
    assert.equal(res.reminder.body, "tea");
    // The request the CLI built is one the wire takes.
    assert.ok(OperatorRemindRequest.safeParse(r.calls[0]?.payload).success);
  });

  it("the scheduler's refusals of remind in one line, exit 1, not sent again", async () => {
    const nobody = await hive.asked("remind", "bob", "10m", "hi");
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stdout, "");
    assert.equal(
      nobody.stderr,
      "hive: no agent named bob; the agents are: alice, carol, manager\n",
    );
    assert.equal(nobody.calls.length, 1, "a refusal is not tried again");
    const past = await hive.asked("remind", "alice", "2020-01-01T00:00:00Z", "too late", "--json");
    assert.equal(past.code, 1);
    assert.deepEqual(JSON.parse(past.stdout), {
      error: {
        code: "bad_request",
        message: "at: 2020-01-01T00:00:00Z is in the past",
        retryable: false,
      },
    });
    assert.equal(hive.state.reminders.size, sampleReminders().length, "nothing set");
  });

  it("cancel-reminder: a pending one, said how it ends; twice a conflict, an unknown id not_found", async () => {
    const once = await hive.asked("cancel-reminder", "4");
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(once.calls, [{ subject: "hive.op.cancel_reminder", payload: { id: 4 } }]);
    assert.equal(
      once.stdout,
      'cancelled reminder #4 for manager ("check the build"); it will not fire\n',
    );
    assert.equal(hive.state.reminders.get(4)?.state, "cancelled");
    const repeating = await hive.cli("cancel-reminder", "2");
    assert.equal(
      repeating.stdout,
      'cancelled reminder #2 for alice ("water the plants the ones by the window"); delivered 4 times; it will not fire again\n',
    );
    const twice = await hive.asked("cancel-reminder", "4");
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "hive: reminder #4 was cancelled already\n");
    assert.equal(twice.calls.length, 1, "a conflict is not tried again");
    const json = await hive.cli("cancel-reminder", "3", "--json");
    assert.equal(ReminderResponse.parse(JSON.parse(json.stdout)).reminder.state, "cancelled");
    const unknown = await hive.cli("cancel-reminder", "99", "--json");
    assert.equal(unknown.code, 1);
    assert.deepEqual(JSON.parse(unknown.stdout), {
      error: { code: "not_found", message: "no reminder #99", retryable: false },
    });
  });

  it("retry-reminder: a failing one is tried now; one not failing is the scheduler's conflict", async () => {
    const r = await hive.asked("retry-reminder", "3");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.retry_reminder", payload: { id: 3 } }]);
    assert.equal(
      r.stdout,
      `reminder #3 for alice ("standup notes"): trying it again now (3 failed tries so far; the last: ${FAILING_ERROR})\n`,
    );
    const json = ReminderResponse.parse(
      JSON.parse((await hive.cli("retry-reminder", "3", "--json")).stdout),
    );
    assert.equal(json.reminder.attempt_count, 3);
    const fine = await hive.asked("retry-reminder", "4");
    assert.equal(fine.code, 1);
    assert.equal(
      fine.stderr,
      `hive: reminder #4 is not failing: it is due at ${new Date(T0 + 120_000).toISOString()}\n`,
    );
    assert.equal(fine.calls.length, 1);
  });

  it("agents: a REMINDERS column from the scheduler's counts; ? when it does not answer; --json is c0re's reply alone", async () => {
    const r = await hive.asked("agents");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls.map((c) => c.subject).sort(), [
      "hive.op.agents",
      "hive.op.reminder_counts",
    ]);
    assert.match(r.stdout, /^NAME\s+ROLE\s+MODEL\s+STATE\s+SINCE\s+RUNNING\s+STARTS\s+REMINDERS$/m);
    assert.match(
      r.stdout,
      /^manager\s+manager\s+haiku\s+idle\s+2m ago\s+yes\s+1\s+1 pending, 1 delivered$/m,
    );
    assert.match(r.stdout, /^alice\s+agent\s+.+\s+1\s+2 pending, 6 delivered, 1 FAILING$/m);
    assert.match(
      r.stdout,
      /^carol\s+agent\s+.+\s+no\s+1\s+-$/m,
      "a cancelled one alone counts nothing",
    );

    hive.state.schedulerDown = true;
    const down = await hive.asked("agents");
    assert.equal(down.code, 0, "the list stands without the counts");
    assert.equal(
      down.calls.filter((c) => c.subject === "hive.op.reminder_counts").length,
      1,
      "asked once",
    );
    assert.match(down.stdout, /^alice\s+agent\s+.+\s+1\s+\?$/m);
    assert.equal(
      down.stderr,
      "hive: the scheduler gave no reminder counts (REMINDERS shows ?): no responders on hive.op.reminder_counts\n",
    );

    const json = await hive.asked("agents", "--json");
    assert.deepEqual(json.calls, [{ subject: "hive.op.agents", payload: {} }]);
    assert.equal(AgentsListResponse.parse(JSON.parse(json.stdout)).agents.length, 3);
  });
});
