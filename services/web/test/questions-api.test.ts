import assert from "node:assert/strict";
import {
  ErrorCode,
  HiveError,
  type OpenThread,
  type Question,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApiError, api } from "../src/wire.js";
import { question } from "./fixtures.js";
import { call, expectBadBodies, harnessScope, record } from "./helpers.js";

const apiError = (json: unknown) => ApiError.parse(json).error;

/** c0re's questions as the stand-in keeps them: #3 and #4 to the operator, #5 alice to bob. */
function asked(): Map<number, Question> {
  return new Map([
    [3, question(3, "alice", { options: ["yes", "no"] })],
    [4, question(4, "bob", { options: ["a", "b", "c"], multi: true })],
    [5, question(5, "alice", { target: "bob" })],
  ]);
}

/** What c0re does to an open question when it closes; a closed one is a conflict. */
function close(
  qs: Map<number, Question>,
  id: number,
  state: "answered" | "cancelled",
  answer: string,
): Question {
  const q = qs.get(id);
  if (q === undefined) throw new HiveError(ErrorCode.NotFound, `no question #${id}`);
  if (q.state !== "open") {
    throw new HiveError(ErrorCode.Conflict, `question #${id} was ${q.state} already`);
  }
  const now: Question = {
    ...q,
    state,
    answer,
    answered_at: Date.now(),
    answered_by: "operator",
  };
  qs.set(id, now);
  return now;
}

describe("questions and open threads API (c0re stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });
  let questions: Map<number, Question>;

  /** c0re's four operator subjects over `questions`, checking options as c0re does. */
  const c0re = async () => {
    questions = asked();
    const list = record(t.h.nc, subjects.op.questions, rpcs.opQuestions, (req) => ({
      questions: [...questions.values()]
        .filter((q) => req.all === true || (q.state === "open" && q.target === "operator"))
        .sort((a, b) => b.id - a.id),
    }));
    const answer = record(t.h.nc, subjects.op.answer, rpcs.opAnswer, (req) => {
      const chosen = req.options ?? [];
      const bad = chosen.find((o) => !questions.get(req.id)?.options.includes(o));
      if (bad !== undefined) {
        throw new HiveError(ErrorCode.BadRequest, `"${bad}" is not one of its options`);
      }
      return {
        question: close(
          questions,
          req.id,
          "answered",
          [chosen.join(", "), req.text ?? ""].filter((p) => p !== "").join(" — "),
        ),
      };
    });
    const cancel = record(t.h.nc, subjects.op.cancelQuestion, rpcs.opCancelQuestion, (req) => ({
      question: close(questions, req.id, "cancelled", "[cancelled]"),
    }));
    const thread: OpenThread = {
      kind: "question",
      id: 5,
      summary: "question 5 from alice?",
      asker: "alice",
      target: "bob",
      role: "asker",
      counterparty: "bob",
      created_at: Date.now() - 60_000,
      expires_at: null,
      age_seconds: 60,
    };
    const threads = record(t.h.nc, subjects.op.threads, rpcs.opThreads, (req) => {
      if (req.agent === "ghost") throw new HiveError(ErrorCode.NotFound, "no agent named ghost");
      return { threads: [thread] };
    });
    for (const r of [list, answer, cancel, threads]) await t.keep(r);
    return { list, answer, cancel, threads };
  };

  it("GET /api/questions asks hive.op.questions; ?all=true closed ones and agents' too", async () => {
    const { list } = await c0re();
    const open = await call(t.h.app, "GET", api.questions.path);
    assert.equal(open.status, 200);
    assert.deepEqual(
      api.questions.reply.parse(open.json()).questions.map((q) => q.id),
      [4, 3],
    );
    const all = await call(t.h.app, "GET", `${api.questions.path}?all=true`);
    assert.deepEqual(
      api.questions.reply.parse(all.json()).questions.map((q) => [q.id, q.target]),
      [
        [5, "bob"],
        [4, "operator"],
        [3, "operator"],
      ],
    );
    for (const query of ["?all=please", "?state=open", "?all=true&all=false"]) {
      const bad = await call(t.h.app, "GET", `${api.questions.path}${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(apiError(bad.json()).code, "bad_request", query);
    }
    assert.deepEqual(
      list.seen.map((s) => s.req),
      [{}, { all: true }],
      "no invalid query reached c0re",
    );
  });

  it("answers with an option, with several (multi), with text, and with both", async () => {
    const { answer } = await c0re();
    const one = await call(t.h.app, "POST", api.answer.url(3), { body: { options: ["yes"] } });
    assert.equal(one.status, 200);
    const q3 = api.answer.reply.parse(one.json()).question;
    assert.deepEqual([q3.id, q3.state, q3.answer], [3, "answered", "yes"]);
    const many = await call(t.h.app, "POST", api.answer.url(4), {
      body: { options: ["a", "c"], text: "but c first" },
    });
    assert.equal(many.status, 200);
    questions.set(6, question(6, "carol"));
    const text = await call(t.h.app, "POST", api.answer.url(6), { body: { text: "  later  " } });
    assert.equal(api.answer.reply.parse(text.json()).question.answer, "later");
    assert.deepEqual(answer.seen, [
      { subject: subjects.op.answer, req: { id: 3, options: ["yes"] } },
      {
        subject: subjects.op.answer,
        req: { id: 4, options: ["a", "c"], text: "but c first" },
      },
      { subject: subjects.op.answer, req: { id: 6, text: "later" } },
    ]);
  });

  it("cancels any open question; closing twice is 409, an unknown id 404, a wrong option c0re's 400", async () => {
    const { cancel } = await c0re();
    const ok = await call(t.h.app, "POST", api.cancelQuestion.url(5), { body: {} });
    assert.equal(ok.status, 200);
    assert.equal(api.cancelQuestion.reply.parse(ok.json()).question.state, "cancelled");
    assert.deepEqual(cancel.seen, [{ subject: subjects.op.cancelQuestion, req: { id: 5 } }]);

    const again = await call(t.h.app, "POST", api.answer.url(5), { body: { text: "too late" } });
    assert.equal(again.status, 409);
    assert.deepEqual(apiError(again.json()), {
      code: "conflict",
      message: "question #5 was cancelled already",
      retryable: false,
    });
    const ghost = await call(t.h.app, "POST", api.cancelQuestion.url(99), { body: {} });
    assert.equal(ghost.status, 404);
    assert.equal(apiError(ghost.json()).message, "no question #99");
    const wrong = await call(t.h.app, "POST", api.answer.url(3), { body: { options: ["maybe"] } });
    assert.equal(wrong.status, 400);
    assert.equal(apiError(wrong.json()).message, '"maybe" is not one of its options');
    assert.equal(questions.get(3)?.state, "open", "nothing changed");
  });

  it("refuses malformed ids and bodies before they reach c0re", async () => {
    const { answer, cancel } = await c0re();
    await expectBadBodies(t.h.app, api.answer.url(3), [
      [{}, /give a text, options, or both/],
      [{ text: "" }, /^body\.text: /],
      [{ text: "   " }, /^body\.text: /],
      [{ text: 5 }, /^body\.text: /],
      [{ text: "x".repeat(4001) }, /^body\.text: /],
      [{ options: [] }, /^body\.options: /],
      [{ options: [""] }, /^body\.options\.0: /],
      [{ options: "yes" }, /^body\.options: /],
      [{ text: "yes", id: 4 }, /id/],
      [{ text: "yes", by: "alice" }, /by/],
      [[], /^body: /],
    ]);
    await expectBadBodies(t.h.app, api.cancelQuestion.url(3), [
      [{ reason: "no" }, /reason/],
      [[], /^body: /],
      ["cancel", /^body: /],
    ]);
    for (const id of ["abc", "0", "-1", "1.5"]) {
      for (const url of [`/api/questions/${id}/answer`, `/api/questions/${id}/cancel`]) {
        const r = await call(t.h.app, "POST", url, { body: { text: "x" } });
        assert.equal(r.status, 400, url);
        assert.match(apiError(r.json()).message, /^params\.id: /, url);
      }
    }
    assert.equal(answer.seen.length + cancel.seen.length, 0, "nothing reached c0re");
    assert.equal(questions.get(3)?.state, "open");
  });

  it("GET /api/threads asks hive.op.threads for one agent or the hive; a bad agent is 400, an unknown one 404", async () => {
    const { threads } = await c0re();
    const alice = await call(t.h.app, "GET", `${api.threads.path}?agent=alice`);
    assert.equal(alice.status, 200);
    const [thread] = api.threads.reply.parse(alice.json()).threads;
    assert.deepEqual(thread?.kind === "question" && [thread.role, thread.counterparty], [
      "asker",
      "bob",
    ]);
    assert.equal((await call(t.h.app, "GET", api.threads.path)).status, 200);
    const ghost = await call(t.h.app, "GET", `${api.threads.path}?agent=ghost`);
    assert.equal(ghost.status, 404);
    for (const query of ["?agent=NOT_OK", "?agent=operator", "?agent=alice&all=true"]) {
      const bad = await call(t.h.app, "GET", `${api.threads.path}${query}`);
      assert.equal(bad.status, 400, query);
      assert.match(apiError(bad.json()).message, /^querystring/, query);
    }
    assert.deepEqual(
      threads.seen.map((s) => s.req),
      [{ agent: "alice" }, {}, { agent: "ghost" }],
    );
  });
});
