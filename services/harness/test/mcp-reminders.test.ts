import assert from "node:assert/strict";
import { ErrorCode, HiveError, type Reminder } from "@hyperhive/shared";
import { TestClock } from "@hyperhive/shared/testing";
import { afterAll, afterEach, describe, it } from "vitest";
import { period, when } from "../src/mcp-reminders.js";
import type { SocketHandlers } from "../src/socket.js";
import { callTool as call, McpWiring } from "./mcp-wiring.js";
import { reminderFrom } from "./scheduler-answers.js";

/** The MCP server's clock in these tests (unix ms): 2027-01-15T08:00:00Z. */
const NOW = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;

const later =
  "It will arrive in your inbox as a message from `reminder` quoting its id and text; " +
  "cancel_reminder";

describe("the reminder tools of the MCP server", () => {
  const wiring = new McpWiring();
  afterEach(() => wiring.close());
  afterAll(() => wiring.remove());
  const connected = (handlers: Partial<SocketHandlers>) =>
    wiring.connect(handlers, "agent", new TestClock(NOW));

  it("times read in UTC and relative to the clock; periods exactly", () => {
    assert.equal(when(NOW + 10 * MIN, NOW), "2027-01-15T08:10:00Z (in 10 min)");
    // A few ms already gone since the scheduler dated it: still the 10 minutes asked.
    assert.equal(when(NOW + 10 * MIN - 40, NOW), "2027-01-15T08:09:59Z (in 10 min)");
    assert.equal(when(NOW - 5000, NOW), "2027-01-15T07:59:55Z (5 s ago)");
    assert.equal(when(NOW + 3 * 86_400_000, NOW), "2027-01-18T08:00:00Z (in 3 d)");
    assert.deepEqual([60, 90, 3600, 5400, 86_400, 7 * 86_400].map(period), [
      "1 min",
      "90 s",
      "1 h",
      "90 min",
      "1 d",
      "7 d",
    ]);
  });

  it("remind, list_my_reminders and cancel_reminder go to the socket and read back in words", async () => {
    const once = reminderFrom({ id: 12, body: "check the build", due_at: NOW + 10 * MIN }, NOW);
    const hourly = reminderFrom(
      { id: 13, body: "look at the queue", due_at: NOW + 2 * HOUR + 30_000, every_seconds: 3600 },
      NOW,
    );
    const listed: Reminder[] = [
      once,
      {
        ...hourly,
        delivered_count: 3,
        last_delivered_at: NOW - HOUR,
        attempt_count: 2,
        last_error: "broker: unavailable",
        retry_at: NOW + 30_000,
      },
      reminderFrom({
        id: 9,
        body: "stand-up\nnotes",
        created_by: "operator",
        due_at: NOW - 2 * HOUR,
        state: "delivered",
        delivered_count: 1,
        last_delivered_at: NOW - 2 * HOUR + 400,
      }),
      reminderFrom({
        id: 8,
        body: "x".repeat(100),
        due_at: NOW + HOUR,
        every_seconds: 5400,
        state: "cancelled",
        delivered_count: 2,
        cancelled_at: NOW - 3 * 86_400_000,
      }),
    ];
    const { client, harness } = await connected({
      remind: async (p) => ({ reminder: p.every_seconds === undefined ? once : hourly }),
      list_my_reminders: async ({ all }) =>
        all ? { reminders: listed, truncated: true } : { reminders: [], truncated: false },
      cancel_reminder: async ({ reminder_id }) => ({
        reminder: {
          ...(reminder_id === 12 ? once : { ...hourly, delivered_count: 3 }),
          state: "cancelled",
          cancelled_at: NOW,
        },
      }),
    });
    const texts = [
      await call(client, "remind", { body: "check the build", in_seconds: 600 }),
      await call(client, "remind", {
        body: "look at the queue",
        at: "2027-01-15T10:00:30Z",
        every_seconds: 3600,
      }),
      await call(client, "list_my_reminders", {}),
      await call(client, "list_my_reminders", { all: true }),
      await call(client, "cancel_reminder", { id: 12 }),
      await call(client, "cancel_reminder", { id: 13 }),
    ];
    assert.ok(
      texts.every((x) => !x.isError),
      JSON.stringify(texts),
    );
    assert.deepEqual(
      texts.map((x) => x.text),
      [
        'reminder #12 set: "check the build" — due at 2027-01-15T08:10:00Z (in 10 min). ' +
          `${later}(12) if it stops mattering.`,
        'reminder #13 set: "look at the queue" — due at 2027-01-15T10:00:30Z (in 2 h), then ' +
          `every 1 h until cancelled. ${later}(13) if it stops mattering.`,
        "(no pending reminders)",
        "4 reminders of yours, soonest first:\n" +
          '#12 due at 2027-01-15T08:10:00Z (in 10 min): "check the build"\n' +
          "#13 due at 2027-01-15T10:00:30Z (in 2 h), every 1 h, delivered 3 times: " +
          '"look at the queue" — delivery failing after 2 tries: broker: unavailable; ' +
          "next try at 2027-01-15T08:00:30Z (in 30 s)\n" +
          '#9 delivered at 2027-01-15T06:00:00Z (2 h ago), set by the operator: "stand-up notes"\n' +
          "#8 cancelled at 2027-01-12T08:00:00Z (3 d ago), every 90 min, delivered 2 times: " +
          `"${"x".repeat(79)}…"\n` +
          "(and more, not listed)",
        'reminder #12 cancelled: "check the build" — it was due at 2027-01-15T08:10:00Z ' +
          "(in 10 min) and will not fire.",
        'reminder #13 cancelled: "look at the queue" — it repeated every 1 h (delivered 3 ' +
          "times; next due at 2027-01-15T10:00:30Z (in 2 h)) and will not fire again.",
      ],
    );
    assert.deepEqual(harness.seen, [
      { cmd: "remind", params: { body: "check the build", in_seconds: 600 } },
      {
        cmd: "remind",
        params: { body: "look at the queue", at: "2027-01-15T10:00:30Z", every_seconds: 3600 },
      },
      { cmd: "list_my_reminders", params: {} },
      { cmd: "list_my_reminders", params: { all: true } },
      { cmd: "cancel_reminder", params: { reminder_id: 12 } },
      { cmd: "cancel_reminder", params: { reminder_id: 13 } },
    ]);
  });

  it("the scheduler's refusals are tool errors with their message; bad arguments never leave", async () => {
    const limit = "at most 2 pending reminders per agent: cancel one (cancel_reminder) first";
    const { client, harness } = await connected({
      remind: async () => {
        throw new HiveError(ErrorCode.LimitExceeded, limit);
      },
      cancel_reminder: async ({ reminder_id }) => {
        throw new HiveError(ErrorCode.NotFound, `no pending reminder #${reminder_id} of yours`);
      },
    });
    assert.deepEqual(await call(client, "remind", { body: "x", in_seconds: 60 }), {
      text: `error (limit_exceeded): ${limit}`,
      isError: true,
    });
    assert.deepEqual(await call(client, "cancel_reminder", { id: 99 }), {
      text: "error (not_found): no pending reminder #99 of yours",
      isError: true,
    });
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ["remind", { body: "x" }, /exactly one of in_seconds or at/],
      ["remind", { body: "x", in_seconds: 5, at: "2027-01-15T09:00:00Z" }, /exactly one/],
      ["remind", { body: "x", in_seconds: 0 }, /in_seconds/],
      ["remind", { body: "x", in_seconds: 1.5 }, /in_seconds/],
      ["remind", { body: "x", in_seconds: 600, every_seconds: 59 }, /every_seconds/],
      ["remind", { body: "x", at: "2027-01-15T09:00:00" }, /ISO datetime at at$/],
      ["remind", { body: "x", at: "tomorrow at nine" }, /ISO datetime at at$/],
      ["remind", { body: "  ", in_seconds: 5 }, /body/],
      ["remind", { body: "x".repeat(2001), in_seconds: 5 }, /2000 characters/],
      ["remind", { in_seconds: 5 }, / at body$/],
      ["cancel_reminder", { id: 0 }, / at id$/],
      ["cancel_reminder", { id: "12" }, / at id$/],
      ["list_my_reminders", { all: "yes" }, / at all$/],
    ];
    for (const [name, args, why] of bad) {
      const r = await call(client, name, args);
      assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}: ${r.text}`);
      assert.match(r.text, why, `${name} ${JSON.stringify(args)}`);
    }
    assert.deepEqual(
      harness.seen.map((x) => x.cmd),
      ["remind", "cancel_reminder"],
      "nothing malformed reached the socket",
    );
  });

  it("the tools' input schemas: remind needs a body, cancel_reminder an id", async () => {
    const { client } = await connected({});
    const { tools } = await client.listTools();
    const schema = (name: string) => tools.find((x) => x.name === name)?.inputSchema;
    assert.deepEqual(schema("remind")?.required, ["body"]);
    assert.deepEqual(Object.keys(schema("remind")?.properties ?? {}).sort(), [
      "at",
      "body",
      "every_seconds",
      "in_seconds",
    ]);
    assert.deepEqual(schema("cancel_reminder")?.required, ["id"]);
    assert.equal(schema("list_my_reminders")?.required, undefined);
    const remind = tools.find((x) => x.name === "remind")?.description ?? "";
    for (const said of [/from `reminder`/, /exactly one of in_seconds or at/, /limit_exceeded/]) {
      assert.match(remind, said);
    }
  });
});
