import assert from "node:assert/strict";
import {
  ErrorCode,
  HiveError,
  type NatsConnection,
  type Reminder,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { utc } from "../src/mcp-reminders.js";
import { ActionLog } from "../src/turn-memory.js";
import { Bench, toolCall as call } from "./bench.js";
import { reminderFrom } from "./scheduler-answers.js";

const TURN_TIMEOUT_MS = 90_000;
const HOUR = 3600_000;
/** Added to every due time the stand-in answers: "in 10 min" stays exact however slow the turn. */
const SLACK_MS = 30_000;
/** The stand-in's limit of pending reminders per agent. */
const MAX_PENDING = 2;

/** What the stand-in scheduler was asked: the subject (so the caller) and the payload. */
interface Asked {
  subject: string;
  payload: unknown;
}

/**
 * Stands in for the scheduler on `hive.agent.<owner>.{remind,reminders,cancel_reminder}`: records
 * every request and answers as the scheduler would (the owner from the subject, at most
 * {@link MAX_PENDING} pending, only the owner's own listed or cancelled), on the real clock (the
 * MCP server, claude's child, reads "in 10 min" on the system clock). `mine`: the owner's
 * reminders as they stand.
 */
function standInScheduler(
  nc: NatsConnection,
  owner: string,
  asked: Asked[],
  mine: Reminder[],
): Service[] {
  const a = subjects.agent;
  let next = 12;
  return [
    serve(nc, a.remind(owner), rpcs.remind, (req, m) => {
      asked.push({ subject: m.subject, payload: req });
      const pending = mine.filter((r) => r.state === "pending").length;
      if (pending >= MAX_PENDING) {
        throw new HiveError(
          ErrorCode.LimitExceeded,
          `at most ${MAX_PENDING} pending reminders per agent (you have ${pending}): cancel one you no longer need`,
        );
      }
      const now = Date.now();
      const due = req.at === undefined ? now + (req.in_seconds ?? 0) * 1000 : Date.parse(req.at);
      const r = reminderFrom(
        {
          id: next++,
          owner,
          created_by: owner,
          body: req.body,
          due_at: due + SLACK_MS,
          every_seconds: req.every_seconds ?? null,
        },
        now,
      );
      mine.push(r);
      return { reminder: r };
    }),
    serve(nc, a.reminders(owner), rpcs.myReminders, (req, m) => {
      asked.push({ subject: m.subject, payload: req });
      const listed = mine.filter((r) => req.all === true || r.state === "pending");
      return { reminders: listed.sort((x, y) => x.due_at - y.due_at), truncated: false };
    }),
    serve(nc, a.cancelReminder(owner), rpcs.cancelReminder, (req, m) => {
      asked.push({ subject: m.subject, payload: req });
      const i = mine.findIndex((r) => r.id === req.id && r.state === "pending");
      const r = mine[i];
      if (!r) throw new HiveError(ErrorCode.NotFound, `no pending reminder #${req.id} of yours`);
      // Dated a minute and a half back: "1 min ago" is exact however slow the turn.
      mine[i] = { ...r, state: "cancelled", cancelled_at: Date.now() - 90_000 };
      return { reminder: mine[i] };
    }),
  ];
}

/**
 * The reminder tools through the real claude and its real MCP server, bridged by an in-process
 * harness to NATS, where the test stands in for the scheduler on each caller's subjects.
 */
describe("reminders through claude", () => {
  const bench = new Bench(["alice", "bob"]);
  const asked: Asked[] = [];
  const alices: Reminder[] = [];

  beforeAll(async () => {
    await bench.start();
    standInScheduler(bench.nc, "alice", asked, alices);
    standInScheduler(bench.nc, "bob", asked, []);
    await bench.nc.flush();
  });
  afterEach(async () => {
    await bench.stopHarnesses();
    asked.length = 0;
  });
  afterAll(() => bench.stop());

  it(
    "every reminder tool reaches the scheduler on hive.agent.<me>.* with its payload and reads back in words",
    async () => {
      // A due time two hours ahead, to the second (the stand-in adds its slack).
      const at = utc(Math.ceil((Date.now() + 2 * HOUR) / 1000) * 1000);
      await bench.ctl.setScript([
        {
          match: "plan the day",
          reply: [
            ...call("remind", { body: "check the build", in_seconds: 600 }),
            ...call("remind", { body: "look at the queue", at, every_seconds: 3600 }),
            ...call("remind", { body: "one too many", in_seconds: 60 }),
            ...call("remind", { body: "never sent", in_seconds: 60, at }),
            ...call("list_my_reminders"),
            ...call("cancel_reminder", { id: 12 }),
            ...call("cancel_reminder", { id: 99 }),
            ...call("list_my_reminders", { all: true }),
            ...call("cancel_reminder", { id: 0 }),
            { text: "done" },
          ],
        },
      ]);
      const h = await bench.harness("alice");
      const { results, id, sentAt } = await bench.toolTurn("alice", "plan the day");
      assert.equal(results.length, 9, results.join("\n---\n"));
      const [r12, r13] = alices;
      assert.ok(r12 && r13 && r12.cancelled_at !== null);
      const at12 = utc(r12.due_at);
      const at13 = utc(r13.due_at);
      const arrives = (n: number) =>
        "It will arrive in your inbox as a message from `reminder` quoting its id and text; " +
        `cancel_reminder(${n}) if it stops mattering.`;
      assert.deepEqual(results.slice(0, 8), [
        `reminder #12 set: "check the build" — due at ${at12} (in 10 min). ${arrives(12)}`,
        `reminder #13 set: "look at the queue" — due at ${at13} (in 2 h), then every 1 h until cancelled. ${arrives(13)}`,
        "error (limit_exceeded): at most 2 pending reminders per agent (you have 2): cancel one you no longer need",
        "error (bad_request): (payload): give exactly one of in_seconds or at",
        "2 pending reminders of yours, soonest first:\n" +
          `#12 due at ${at12} (in 10 min): "check the build"\n` +
          `#13 due at ${at13} (in 2 h), every 1 h: "look at the queue"`,
        `reminder #12 cancelled: "check the build" — it was due at ${at12} (in 10 min) and will not fire.`,
        "error (not_found): no pending reminder #99 of yours",
        "2 reminders of yours, soonest first:\n" +
          `#12 cancelled at ${utc(r12.cancelled_at)} (1 min ago): "check the build"\n` +
          `#13 due at ${at13} (in 2 h), every 1 h: "look at the queue"`,
      ]);
      assert.equal(
        results[8],
        "MCP error -32602: Input validation error: Invalid arguments for tool cancel_reminder: " +
          "Too small: expected number to be >0 at id",
      );
      const a = subjects.agent;
      assert.deepEqual(asked, [
        { subject: a.remind("alice"), payload: { body: "check the build", in_seconds: 600 } },
        {
          subject: a.remind("alice"),
          payload: { body: "look at the queue", at, every_seconds: 3600 },
        },
        { subject: a.remind("alice"), payload: { body: "one too many", in_seconds: 60 } },
        { subject: a.reminders("alice"), payload: {} },
        { subject: a.cancelReminder("alice"), payload: { id: 12 } },
        { subject: a.cancelReminder("alice"), payload: { id: 99 } },
        { subject: a.reminders("alice"), payload: { all: true } },
      ]);
      // The two reminders it set are in the turn memory (not the refused ones), as first due.
      assert.deepEqual(
        new ActionLog({ stateDir: h.cfg.stateDir, log: bench.log }).previous({
          id,
          sent_at: sentAt,
        }),
        [
          { kind: "reminded", id: 12, due_at: r12.due_at, quote: "check the build" },
          { kind: "reminded", id: 13, due_at: r13.due_at, quote: "look at the queue" },
        ],
      );
    },
    TURN_TIMEOUT_MS,
  );

  it(
    "each agent's tools speak on its own subject: bob's list and cancel are bob's, never alice's",
    async () => {
      await bench.ctl.setScript([
        {
          match: "tidy up",
          reply: [
            ...call("list_my_reminders", { all: true }),
            ...call("cancel_reminder", { id: 13 }),
            { text: "done" },
          ],
        },
      ]);
      await bench.harness("bob");
      const { results } = await bench.toolTurn("bob", "tidy up");
      assert.deepEqual(results, [
        "(you have no reminders)",
        "error (not_found): no pending reminder #13 of yours",
      ]);
      const a = subjects.agent;
      assert.deepEqual(asked, [
        { subject: a.reminders("bob"), payload: { all: true } },
        { subject: a.cancelReminder("bob"), payload: { id: 13 } },
      ]);
    },
    TURN_TIMEOUT_MS,
  );
});
