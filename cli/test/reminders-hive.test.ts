import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  HistoryResponse,
  type Reminder,
  ReminderResponse,
  RemindersResponse,
  type ServiceEvent,
} from "@hyperhive/shared";
import { UNTOUCHED_REMINDER, waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { cmdline, recordedPid, runtimeOf, watchServiceEvents } from "./helpers.js";
import { FROM_OPERATOR, SCRIPT } from "./manager-script.js";
import { useScriptedHive } from "./scripted-hive.js";

/**
 * Reminders through the hive CLI on a real `hive up --offline`: the scheduler started and
 * supervised beside the broker; `hive remind manager 2s …` lands in the manager's inbox from
 * `reminder` and wakes its claude (the model server's request log shows the wake prompt quoting
 * `reminder #N`); `hive reminders --json` before and after; a repeating one listed and cancelled
 * (a period under a minute refused before anything is sent); a delivery failing while the broker
 * is frozen (SIGSTOP: alive, so not restarted, but answering nothing) shown FAILING with its
 * error, retried, and delivered once when it thaws, late; a kill -9 of the scheduler, which
 * comes back with its reminders and delivers them once.
 */
/** The manager's script: "remind-me" makes its claude call `remind`; then the team's script. */
const REMIND_SCRIPT = [
  {
    match: `${FROM_OPERATOR}remind-me`,
    reply: [
      {
        tool_use: {
          name: "mcp__hyperhive__remind",
          input: { body: "look at the deploy", in_seconds: 2 },
        },
      },
      { text: "I will come back to it." },
    ],
  },
  ...SCRIPT,
];

/**
 * `r` is due `ms` after it was set. The scheduler reads its clock for the due time a moment
 * before it stamps `created_at`, so the two may be a few ms short of `ms` apart, never more.
 */
function assertDueIn(r: Reminder, ms: number): void {
  const apart = r.due_at - r.created_at;
  assert.ok(apart <= ms && apart > ms - 100, `due ${apart} ms after it was set, not ${ms}`);
}

describe("reminders through the hive CLI (hive up --offline)", () => {
  const { root, cli, json, logged } = useScriptedHive({
    prefix: "hive-cli-remind-",
    script: REMIND_SCRIPT,
  });

  /** The reminder `id` in `hive reminders --all --json`. */
  const listed = async (id: number): Promise<Reminder | undefined> =>
    RemindersResponse.parse(await json("reminders", "--all")).reminders.find((r) => r.id === id);
  /** Waits until reminder `id` satisfies `ok`. */
  const reminderWhen = (id: number, what: string, ok: (r: Reminder) => boolean) =>
    waitUntil(
      async () => {
        const r = await listed(id);
        return r && ok(r) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300, what: `reminder #${id} ${what}` },
    );
  /** Waits for the manager's wake prompt on reminder `id`, from `reminder`, quoting `text`. */
  const woken = (id: number, text: string) =>
    waitUntil(
      async () =>
        (await logged()).find(
          (q) =>
            q.system.includes("You are **manager**") &&
            q.text.includes("from: reminder") &&
            q.text.includes(`reminder #${id}: ${text}`),
        ),
      { timeoutMs: 60_000, intervalMs: 300, what: `the manager woken by reminder #${id}` },
    );
  /** The messages from `reminder` in the manager's history whose body starts `reminder #id:`. */
  const delivered = async (id: number) =>
    HistoryResponse.parse(
      await json("history", "--agent", "manager", "--limit", "500"),
    ).messages.filter((m) => m.from === "reminder" && m.body.startsWith(`reminder #${id}:`));
  /** `hive remind …` that must succeed: the reminder it set. */
  const remind = async (...args: string[]) =>
    ReminderResponse.parse(await json("remind", ...args)).reminder;

  it("hive up runs the scheduler: its process recorded, its log and its own sqlite under the root", () => {
    const pid = recordedPid(root(), "scheduler");
    assert.ok(pid, "the scheduler's pid is in processes.json");
    assert.match(cmdline(pid), /services\/scheduler\/dist\/src\/main\.js/);
    assert.equal(existsSync(join(root(), "logs/services/scheduler.log")), true);
    assert.equal(existsSync(join(root(), "db/scheduler.sqlite")), true);
  });

  it("hive remind manager 10s: listed pending, then in the manager's inbox from reminder, once, waking it", async () => {
    // Due late enough that the two listings below (a CLI process each, a second or more on a
    // slow machine) still see it pending: at 2 s it was sometimes delivered before the second.
    const set = await cli("remind", "manager", "10s", "check the build");
    assert.equal(set.code, 0, set.stderr);
    const m = /^set reminder #(\d+) for manager: due \S+ \S+ \(in 10s\): "check the build"\n$/.exec(
      set.stdout,
    );
    assert.ok(m, set.stdout);
    const id = Number(m[1]);
    const before = await listed(id);
    assert.ok(before, "listed");
    assert.deepEqual(
      { ...before, created_at: 0, due_at: 0 },
      {
        id,
        owner: "manager",
        body: "check the build",
        created_by: "operator",
        created_at: 0,
        due_at: 0,
        ...UNTOUCHED_REMINDER,
      },
    );
    assertDueIn(before, 10_000);
    assert.match(
      (await cli("reminders")).stdout,
      new RegExp(`^${id}\\s+manager\\s+.+\\s+-\\s+pending\\s+0\\s+check the build$`, "m"),
    );

    await woken(id, "check the build");
    const after = await reminderWhen(id, "delivered", (r) => r.state === "delivered");
    assert.equal(after.delivered_count, 1);
    assert.ok(
      after.last_delivered_at !== null && after.last_delivered_at >= after.due_at,
      "not before it was due",
    );
    const copies = await delivered(id);
    assert.equal(copies.length, 1, "one message");
    assert.equal(copies[0]?.body, `reminder #${id}: check the build`);
    assert.equal(
      (await cli("reminders", "--agent", "manager")).stdout,
      "(no pending reminders for manager)\n",
    );
    assert.match(
      (await cli("reminders", "--all")).stdout,
      new RegExp(`^${id}\\s+manager\\s+.+ago\\)\\s+-\\s+delivered\\s+1\\s+check the build$`, "m"),
    );
  }, 120_000);

  it("the manager's claude calls remind: the operator lists it (set by manager), and it wakes the manager when due", async () => {
    assert.equal((await cli("send", "manager", "remind-me")).code, 0);
    const set = await waitUntil(
      async () =>
        RemindersResponse.parse(
          await json("reminders", "--agent", "manager", "--all"),
        ).reminders.find((r) => r.body === "look at the deploy"),
      { timeoutMs: 60_000, intervalMs: 300, what: "the reminder the manager set" },
    );
    assert.equal(set.created_by, "manager", "its own: the caller is the subject");
    assert.equal(set.owner, "manager");
    assertDueIn(set, 2000);
    // What the tool answered claude, in the request that followed its call.
    await waitUntil(
      async () =>
        (await logged()).find((q) =>
          q.text.includes(`reminder #${set.id} set: "look at the deploy"`),
        ),
      {
        timeoutMs: 60_000,
        intervalMs: 300,
        what: "the remind tool's answer in claude's next request",
      },
    );
    await woken(set.id, "look at the deploy");
    const done = await reminderWhen(set.id, "delivered", (r) => r.state === "delivered");
    assert.equal(done.delivered_count, 1);
    assert.equal((await delivered(set.id)).length, 1);
  }, 120_000);

  it("a repeating one: --every under a minute refused before anything is sent; --every 1h listed and cancelled", async () => {
    const short = await cli("remind", "manager", "1h", "hourly check", "--every", "30s");
    assert.equal(short.code, 2);
    assert.equal(
      short.stderr.split("\n")[0],
      `hive: remind: --every must be at least 1m (a repeating reminder's shortest period), not "30s"`,
    );
    const pendingBefore = RemindersResponse.parse(await json("reminders")).reminders;
    assert.equal(
      pendingBefore.some((r) => r.body === "hourly check"),
      false,
      "nothing was set",
    );

    const r = await remind("manager", "1h", "hourly check", "--every", "1h");
    assert.equal(r.every_seconds, 3600);
    assert.match(
      (await cli("reminders")).stdout,
      new RegExp(
        `^${r.id}\\s+manager\\s+.+ \\(in 1h\\)\\s+1h\\s+pending\\s+0\\s+hourly check$`,
        "m",
      ),
    );
    const cancelled = await cli("cancel-reminder", String(r.id));
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(
      cancelled.stdout,
      `cancelled reminder #${r.id} for manager ("hourly check"); delivered 0 times; it will not fire again\n`,
    );
    const gone = await listed(r.id);
    assert.equal(gone?.state, "cancelled");
    const twice = await cli("cancel-reminder", String(r.id));
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, `hive: reminder #${r.id} was cancelled already\n`);
    const retry = await cli("retry-reminder", String(r.id));
    assert.equal(retry.code, 1);
    assert.equal(retry.stderr, `hive: reminder #${r.id} was cancelled already\n`);
  }, 60_000);

  it("a delivery failing while the broker is frozen is shown FAILING with its error, retried, and lands once when it thaws", async () => {
    const broker = recordedPid(root(), "broker");
    assert.ok(broker, "the broker's pid is recorded");
    // Frozen, not dead: the supervisor sees no exit, and requests to the broker go unanswered.
    process.kill(broker, "SIGSTOP");
    let thawed = false;
    const thaw = () => {
      if (!thawed) process.kill(broker, "SIGCONT");
      thawed = true;
    };
    try {
      const r = await remind("manager", "1s", "while the broker sleeps");
      const failing = await reminderWhen(r.id, "failing", (x) => x.attempt_count >= 1);
      assert.equal(failing.state, "pending");
      assert.match(failing.last_error ?? "", /^timeout: /);
      assert.ok(failing.retry_at !== null, "a next try is planned");
      const text = (await cli("reminders")).stdout;
      assert.match(
        text,
        new RegExp(
          `^${r.id}\\s+manager\\s+.+ago\\)\\s+-\\s+FAILING\\s+0\\s+while the broker sleeps$`,
          "m",
        ),
      );
      assert.match(
        text,
        new RegExp(
          `^FAILING #${r.id} for manager: \\d+ failed tr(y|ies), the last: timeout: [^\\n]+; hive retry-reminder ${r.id} tries it now$`,
          "m",
        ),
      );
      assert.match((await cli("agents")).stdout, /^manager\s.+, \d+ FAILING$/m);
      const retried = await cli("retry-reminder", String(r.id));
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(
        retried.stdout,
        new RegExp(
          `^reminder #${r.id} for manager \\("while the broker sleeps"\\): trying it again now \\(\\d+ failed tr(y|ies) so far; the last: timeout: `,
        ),
      );

      thaw();
      const landed = await reminderWhen(
        r.id,
        "delivered after the thaw",
        (x) => x.state === "delivered",
      );
      assert.equal(landed.attempt_count, 0, "cleared when it lands");
      assert.equal(landed.last_error, null);
      assert.equal(landed.delivered_count, 1);
      await woken(r.id, "while the broker sleeps");
      const copies = await delivered(r.id);
      assert.equal(copies.length, 1, "every try carried the same client id: one message");
      // The first try (on time, so not marked late) waited in the frozen broker's socket and was
      // stored when it thawed; the later tries, same client id, were answered duplicate.
      assert.equal(copies[0]?.body, `reminder #${r.id}: while the broker sleeps`);
    } finally {
      thaw();
    }
  }, 120_000);

  it("kill -9 of the scheduler: hive up restarts it (ServiceEvents), its reminders kept and delivered once", async () => {
    const rt = runtimeOf(root());
    const w = await watchServiceEvents(rt.nats_url, rt.nats_creds);
    try {
      const r = await remind("manager", "6s", "after the restart");
      const pid = recordedPid(root(), "scheduler");
      assert.ok(pid);
      process.kill(pid, "SIGKILL");
      const mine = (e: ServiceEvent) => e.service === "scheduler";
      await waitUntil(
        () => w.events.some((e) => mine(e) && e.event === "started" && e.starts === 2),
        {
          timeoutMs: 30_000,
          what: "the scheduler's second start",
        },
      );
      assert.deepEqual(
        w.events.filter(mine).map((e) => [e.event, e.starts]),
        [
          ["exited", 1],
          ["restarting", 1],
          ["started", 2],
        ],
      );
      assert.equal(w.events.find((e) => mine(e) && e.event === "exited")?.detail, "signal SIGKILL");
      const again = recordedPid(root(), "scheduler");
      assert.ok(again && again !== pid, "the new one is recorded");
      assert.equal((await listed(r.id))?.state, "pending", "kept in its sqlite");
      await woken(r.id, "after the restart");
      await reminderWhen(r.id, "delivered", (x) => x.state === "delivered");
      assert.equal((await delivered(r.id)).length, 1);
    } finally {
      await w.close();
    }
  }, 120_000);
});
