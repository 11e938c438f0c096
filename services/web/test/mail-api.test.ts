import assert from "node:assert/strict";
import { type HistoryRequest, rpcs, type SendRequest, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApiError, api, pages } from "../src/wire.js";
import { message } from "./fixtures.js";
import { call, expectBadBodies, harnessScope, record } from "./helpers.js";

const apiError = (json: unknown) => ApiError.parse(json).error;

describe("mail: broadcasts, replies, history, the flow page (the broker stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });

  const broker = async () => {
    let sent = 0;
    const send = record(t.h.nc, subjects.op.send, rpcs.send, () => ({
      id: 40 + sent++,
      duplicate: false,
      sent_at: Date.now(),
    }));
    const history = record(t.h.nc, subjects.op.history, rpcs.opHistory, (req) => ({
      messages: [
        message(12, "bob", "alice", "re: plan", { in_reply_to: 11 }),
        message(11, "alice", "*", "plan", { recipients: ["bob", "manager"] }),
      ].filter((m) => req.before_id === undefined || m.id < req.before_id),
      next_before_id: null,
    }));
    for (const r of [send, history]) await t.keep(r);
    return { send, history };
  };

  it("POST /api/send takes `*` (every agent) and in_reply_to, and passes them to hive.op.send", async () => {
    const { send } = await broker();
    const all = await call(t.h.app, "POST", api.send.path, {
      body: { to: "*", body: "standup in 5", client_id: "b-1" },
    });
    assert.equal(all.status, 200);
    assert.equal(api.send.reply.parse(all.json()).id, 40);
    const reply = await call(t.h.app, "POST", api.send.path, {
      body: { to: "alice", body: "yes, go", client_id: "r-1", in_reply_to: 11 },
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(
      send.seen.map((s) => s.req),
      [
        { to: "*", body: "standup in 5", client_id: "b-1" },
        { to: "alice", body: "yes, go", client_id: "r-1", in_reply_to: 11 },
      ] satisfies SendRequest[],
    );
  });

  it("refuses malformed sends (a bad target, a bad in_reply_to) before they reach the broker", async () => {
    const { send } = await broker();
    await expectBadBodies(t.h.app, api.send.path, [
      [{ to: "**", body: "hi" }, /^body\.to: /],
      [{ to: "operator", body: "hi" }, /^body\.to: /],
      [{ to: "*", body: "   " }, /^body\.body: /],
      [{ to: "alice", body: "hi", in_reply_to: 0 }, /^body\.in_reply_to: /],
      [{ to: "alice", body: "hi", in_reply_to: "11" }, /^body\.in_reply_to: /],
      [{ to: "alice", body: "hi", in_reply_to: 1.5 }, /^body\.in_reply_to: /],
      [{ to: "alice", body: "hi", reply_to: 11 }, /reply_to/],
    ]);
    assert.equal(send.seen.length, 0);
  });

  it("GET /api/history passes its filters to hive.op.history, numbers as numbers", async () => {
    const { history } = await broker();
    const r = await call(
      t.h.app,
      "GET",
      `${api.history.path}?agent=alice&thread=11&since=1000&until=2000&before_id=13&limit=20`,
    );
    assert.equal(r.status, 200);
    const page = api.history.reply.parse(r.json());
    assert.deepEqual(
      page.messages.map((m) => [m.id, m.to, m.receipts.length]),
      [
        [12, "alice", 1],
        [11, "*", 2],
      ],
    );
    assert.equal((await call(t.h.app, "GET", `${api.history.path}?agent=operator`)).status, 200);
    assert.equal((await call(t.h.app, "GET", api.history.path)).status, 200);
    assert.deepEqual(
      history.seen.map((s) => s.req),
      [
        { agent: "alice", thread: 11, since: 1000, until: 2000, before_id: 13, limit: 20 },
        { agent: "operator" },
        {},
      ] satisfies HistoryRequest[],
    );
  });

  it("refuses a malformed history query with a typed 400 that reaches nothing", async () => {
    const { history } = await broker();
    const cases: Array<[string, RegExp]> = [
      ["agent=NOT_OK", /^querystring\.agent: /],
      ["agent=*", /^querystring\.agent: /],
      ["thread=0", /^querystring\.thread: /],
      ["thread=abc", /^querystring\.thread: /],
      ["since=1.5", /^querystring\.since: /],
      ["until=soon", /^querystring\.until: /],
      ["before_id=-1", /^querystring\.before_id: /],
      ["limit=501", /^querystring\.limit: /],
      ["limit=0", /^querystring\.limit: /],
      ["sender=alice", /sender/],
    ];
    for (const [query, pattern] of cases) {
      const r = await call(t.h.app, "GET", `${api.history.path}?${query}`);
      assert.equal(r.status, 400, query);
      const e = apiError(r.json());
      assert.equal(e.code, "bad_request", query);
      assert.match(e.message, pattern, query);
      assert.doesNotMatch(e.message, /\n/, query);
    }
    assert.equal(history.seen.length, 0, "nothing reached the broker");
  });

  it("serves /flow as a shell for the flow view, of the hive or of one recipient", async () => {
    const all = await call(t.h.app, "GET", pages.flow.url());
    assert.equal(all.status, 200);
    assert.match(all.text, /<div id="app" data-page="flow">/);
    assert.match(all.text, /<title>hyperhive · message flow<\/title>/);
    const alice = await call(t.h.app, "GET", pages.flow.url("alice"));
    assert.match(alice.text, /data-page="flow" data-agent="alice"/);
    const operator = await call(t.h.app, "GET", pages.flow.url("operator"));
    assert.match(operator.text, /data-page="flow" data-agent="operator"/);
    for (const query of ["?agent=NOT_OK", "?agent=a&b=c"]) {
      const bad = await call(t.h.app, "GET", `/flow${query}`);
      assert.equal(bad.status, 400, query);
      assert.match(String(bad.headers["content-type"]), /text\/html/);
      assert.doesNotMatch(bad.text, /<script/);
    }
  });
});
