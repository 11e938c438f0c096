import assert from "node:assert/strict";
import { ErrorCode, request, rpcs, subjects } from "@hyperhive/shared";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type Harness, raw, snapshot, startHarness, wireError } from "./helpers.js";

/** One subject and the bad payloads it must refuse. */
interface Case {
  subject: string;
  bad: Record<string, string | object>;
}

describe("malformed requests get bad_request and change nothing", () => {
  let h: Harness;
  let leasedId: number;
  beforeAll(async () => {
    h = await startHarness();
    // Some state for bad requests to (not) disturb: a leased message, an unleased one, an
    // operator message.
    await request(h.nc, subjects.agent.send("alice"), rpcs.send, { to: "bob", body: "leased" });
    await request(h.nc, subjects.agent.send("alice"), rpcs.send, { to: "bob", body: "waiting" });
    await request(h.nc, subjects.agent.send("alice"), rpcs.send, { to: "operator", body: "fyi" });
    await request(h.nc, subjects.agent.send("carol"), rpcs.send, { to: "*", body: "to all" });
    const got = await request(h.nc, subjects.agent.recv("bob"), rpcs.recv, { wait_seconds: 0 });
    leasedId = got.message!.id;
  });
  afterAll(async () => {
    await h.close();
  });

  const sendBad = {
    "not JSON": "{to: bob",
    "JSON but not an object": "[1,2]",
    "empty object": {},
    "to of the wrong type": { to: 7, body: "x" },
    "body of the wrong type": { to: "bob", body: { text: "x" } },
    "empty body": { to: "bob", body: "" },
    "recipient that is no agent name": { to: "Bob!", body: "x" },
    "client_id of the wrong type": { to: "bob", body: "x", client_id: 5 },
    "in_reply_to not an id": { to: "bob", body: "x", in_reply_to: -1 },
    "unknown field": { to: "bob", body: "x", urgent: true },
    "forged from": { to: "bob", body: "x", from: "operator" },
  };
  const cases = (): Case[] => [
    { subject: subjects.agent.send("alice"), bad: sendBad },
    { subject: subjects.op.send, bad: sendBad },
    { subject: subjects.sys.send, bad: sendBad },
    { subject: subjects.sched.send, bad: sendBad },
    {
      subject: subjects.agent.recv("bob"),
      bad: {
        "not JSON": "wait please",
        "wait of the wrong type": { wait_seconds: "10" },
        "negative wait": { wait_seconds: -1 },
        "lease of zero": { wait_seconds: 0, lease_seconds: 0 },
        "unknown field": { wait_seconds: 0, peek: true },
      },
    },
    {
      subject: subjects.agent.ack("bob"),
      bad: {
        "not JSON": "\u0000\u0001",
        "missing id": {},
        "id of the wrong type": { id: String(leasedId) },
        "fractional id": { id: 1.5 },
        "unknown field": { id: leasedId, all: true },
      },
    },
    {
      subject: subjects.agent.extend("bob"),
      bad: {
        "not JSON": "",
        "ids not an array": { ids: leasedId, lease_seconds: 30 },
        "empty ids": { ids: [], lease_seconds: 30 },
        "missing lease": { ids: [leasedId] },
        "unknown field": { ids: [leasedId], lease_seconds: 30, forever: true },
      },
    },
    {
      subject: subjects.agent.release("bob"),
      bad: {
        "not JSON": "release",
        "not an object": [leasedId],
        "unknown field": { ids: [leasedId] },
      },
    },
    {
      subject: subjects.agent.recvBatch("bob"),
      bad: {
        "not JSON": "five please",
        "missing max": { wait_seconds: 0 },
        "max of zero": { max: 0, wait_seconds: 0 },
        "max over 50": { max: 51, wait_seconds: 0 },
        "fractional max": { max: 2.5, wait_seconds: 0 },
        "negative wait": { max: 5, wait_seconds: -1 },
        "unknown field": { max: 5, wait_seconds: 0, peek: true },
      },
    },
    {
      subject: subjects.op.history,
      bad: {
        "not JSON": "history",
        "agent that is no name": { agent: "Bob!" },
        "broadcast as an agent": { agent: "*" },
        "thread not an id": { thread: 0 },
        "since not a number": { since: "yesterday" },
        "limit too large": { limit: 501 },
        "before_id of the wrong type": { before_id: "9" },
        "unknown field": { sender: "alice" },
      },
    },
    {
      subject: subjects.op.inbox,
      bad: {
        "not JSON": "inbox",
        "limit of the wrong type": { limit: "10" },
        "limit too large": { limit: 100_000 },
        "unknown field": { to: "bob" },
      },
    },
  ];

  it("on every subject, for every kind of bad payload", async () => {
    const before = snapshot(h.db);
    let checked = 0;
    for (const c of cases()) {
      for (const [what, payload] of Object.entries(c.bad)) {
        const err = wireError(await raw(h.nc, c.subject, payload));
        assert.equal(err.code, ErrorCode.BadRequest, `${c.subject}: ${what}`);
        assert.equal(err.retryable, false);
        assert.ok(err.message.length > 0);
        checked++;
      }
    }
    assert.ok(checked >= 66);
    assert.deepEqual(snapshot(h.db), before);
  });

  it("a bad agent token in the subject, with an otherwise valid payload", async () => {
    const before = snapshot(h.db);
    const good: Record<string, object> = {
      send: { to: "bob", body: "x" },
      recv: { wait_seconds: 0 },
      ack: { id: leasedId },
      extend: { ids: [leasedId], lease_seconds: 30 },
      release: {},
      recv_batch: { max: 5, wait_seconds: 0 },
    };
    for (const token of ["Bob", "operator", "system", "waytoolongname", "b_b", "9lives"]) {
      for (const [verb, payload] of Object.entries(good)) {
        const err = wireError(await raw(h.nc, `hive.agent.${token}.${verb}`, payload));
        assert.equal(err.code, ErrorCode.BadRequest, `${token}.${verb}`);
        assert.match(err.message, /agent name|reserved/);
      }
    }
    assert.deepEqual(snapshot(h.db), before);
  });
});
