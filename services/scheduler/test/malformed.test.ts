import assert from "node:assert/strict";
import { ErrorCode, subjects } from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { api, raw, reminderEvents, snapshot, wireError } from "./helpers.js";
import { type Hive, startHive } from "./hive.js";

/** One subject and the bad payloads it must refuse. */
interface Case {
  subject: string;
  bad: Record<string, string | object>;
}

describe("malformed requests get bad_request and change nothing", () => {
  let h: Hive;
  let id: number;
  beforeAll(async () => {
    h = await startHive();
    // Some state for bad requests to (not) disturb.
    const a = api(h.nc);
    id = (await a.remind("alice", { body: "keep me", in_seconds: 600 })).id;
    await a.opRemind({ agent: "bob", body: "and me", in_seconds: 60, every_seconds: 60 });
  });
  afterAll(async () => {
    await h.close();
  });

  const when = { in_seconds: 60 };
  const remindBad = (extra: object): Record<string, string | object> => ({
    "not JSON": "{body: remind me",
    "JSON but not an object": "[1,2]",
    "empty object": { ...extra },
    "no time": { ...extra, body: "x" },
    "both in_seconds and at": { ...extra, body: "x", in_seconds: 60, at: "2099-01-01T00:00:00Z" },
    "body of the wrong type": { ...extra, body: 7, ...when },
    "empty body": { ...extra, body: "", ...when },
    "whitespace body": { ...extra, body: "   ", ...when },
    "body over 2000 characters": { ...extra, body: "x".repeat(2001), ...when },
    "in_seconds of zero": { ...extra, body: "x", in_seconds: 0 },
    "fractional in_seconds": { ...extra, body: "x", in_seconds: 1.5 },
    "in_seconds as a string": { ...extra, body: "x", in_seconds: "60" },
    "in_seconds over a year": { ...extra, body: "x", in_seconds: 367 * 86_400 },
    "at that is no time": { ...extra, body: "x", at: "tomorrow at nine" },
    "at without an offset": { ...extra, body: "x", at: "2099-01-01T09:00:00" },
    "at in the past": { ...extra, body: "x", at: "2001-01-01T09:00:00Z" },
    "every under a minute": { ...extra, body: "x", ...when, every_seconds: 59 },
    "fractional every": { ...extra, body: "x", ...when, every_seconds: 90.5 },
    "every as a string": { ...extra, body: "x", ...when, every_seconds: "60" },
    "unknown field": { ...extra, body: "x", ...when, urgent: true },
    "forged owner": { ...extra, body: "x", ...when, owner: "bob" },
    "forged created_by": { ...extra, body: "x", ...when, created_by: "operator" },
    "forged id": { ...extra, body: "x", ...when, id },
  });
  const idBad = (): Record<string, string | object> => ({
    "not JSON": "cancel it",
    "missing id": {},
    "id as a string": { id: String(id) },
    "id of zero": { id: 0 },
    "fractional id": { id: 1.5 },
    "unknown field": { id, owner: "alice" },
  });
  const cases = (): Case[] => [
    { subject: subjects.agent.remind("alice"), bad: remindBad({}) },
    {
      subject: subjects.agent.reminders("alice"),
      bad: {
        "not JSON": "mine please",
        "not an object": [1],
        "all of the wrong type": { all: "yes" },
        "another agent's, asked for": { agent: "bob" },
        "forged owner": { owner: "bob" },
      },
    },
    { subject: subjects.agent.cancelReminder("bob"), bad: idBad() },
    {
      subject: subjects.op.reminders,
      bad: {
        "not JSON": "list",
        "agent that is no name": { agent: "Bob!" },
        "the operator as an agent": { agent: "operator" },
        "limit of zero": { limit: 0 },
        "limit over 1000": { limit: 1001 },
        "limit as a string": { limit: "10" },
        "unknown field": { owner: "bob" },
      },
    },
    {
      subject: subjects.op.remind,
      bad: {
        ...remindBad({ agent: "bob" }),
        "missing agent": { body: "x", ...when },
        "agent that is no name": { agent: "Bob!", body: "x", ...when },
        "reminder as the agent": { agent: "reminder", body: "x", ...when },
      },
    },
    { subject: subjects.op.cancelReminder, bad: idBad() },
    { subject: subjects.op.retryReminder, bad: idBad() },
    {
      subject: subjects.op.reminderCounts,
      bad: { "not JSON": "counts", "not an object": [], "unknown field": { agent: "bob" } },
    },
  ];

  it("on every subject, for every kind of bad payload", async () => {
    const events = reminderEvents(h.nc);
    const before = snapshot(h.db);
    let checked = 0;
    for (const c of cases()) {
      for (const [what, payload] of Object.entries(c.bad)) {
        const err = wireError(await raw(h.nc, c.subject, payload));
        assert.equal(err.code, ErrorCode.BadRequest, `${c.subject}: ${what}: ${err.message}`);
        assert.equal(err.retryable, false);
        assert.ok(err.message.length > 0);
        checked++;
      }
    }
    assert.ok(checked >= 80, `${checked} cases`);
    assert.deepEqual(snapshot(h.db), before);
    await h.nc.flush();
    assert.equal(events.seen.length, 0, "no event: nothing changed");
    events.stop();
  });

  it("a bad agent token in the subject, with an otherwise valid payload", async () => {
    const before = snapshot(h.db);
    const good: Record<string, object> = {
      remind: { body: "x", in_seconds: 60 },
      reminders: {},
      cancel_reminder: { id },
    };
    for (const token of [
      "Alice",
      "operator",
      "system",
      "reminder",
      "waytoolongname",
      "b_b",
      "9lives",
    ]) {
      for (const [verb, payload] of Object.entries(good)) {
        const err = wireError(await raw(h.nc, `hive.agent.${token}.${verb}`, payload));
        assert.equal(err.code, ErrorCode.BadRequest, `${token}.${verb}`);
        assert.match(err.message, /agent name|reserved/);
      }
    }
    assert.deepEqual(snapshot(h.db), before);
  });

  it("the owner is the subject's: what alice sets is alice's, whatever she says", async () => {
    const r = await api(h.nc).remind("alice", { body: "mine", in_seconds: 60 });
    assert.equal(r.owner, "alice");
    assert.equal(r.created_by, "alice");
    assert.ok((await api(h.nc).mine("alice")).reminders.some((x) => x.id === r.id));
    assert.ok(!(await api(h.nc).mine("bob")).reminders.some((x) => x.id === r.id));
  });
});
