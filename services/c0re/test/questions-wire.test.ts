import assert from "node:assert/strict";
import { ErrorCode, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { Registry } from "../src/registry.js";
import { hiveError } from "./hive.js";
import { errorCode, useQuestionsHive } from "./questions-hive.js";

/**
 * The question subjects on the wire: every malformed payload is a bad_request that changes
 * nothing, and the caller is the subject's token, never the payload.
 */
describe("questions on the wire: malformed payloads and spoofing", () => {
  const t = useQuestionsHive("c0re-questions-wire-");
  const call = t.call;

  /** What a refused request must leave as it was. */
  const snapshot = async () => ({
    questions: await call.op.questions(true),
    threads: await call.op.threads(),
    events: t.hive.seen.questions.length,
    messages: t.hive.seen.sysSends.length,
  });

  it("answers not JSON, unknown fields, wrong types and a bad agent token with bad_request on every subject, changing nothing", async () => {
    // Something to answer, cancel and list, so a payload that slipped through would show.
    const open = await call.as("alice").ask({ to: "bob", question: "open?", options: ["x"] });
    const toOp = await call.as("alice").ask({ to: "operator", question: "op?", options: ["x"] });
    const before = await snapshot();
    const a = subjects.agent;
    const op = subjects.op;
    /** Per subject: a valid payload (for the unknown field), then wrong ones. */
    const cases: [string, Record<string, unknown>, object[]][] = [
      [
        a.ask("alice"),
        { to: "operator", question: "q?" },
        [
          { to: "operator", question: 7 },
          { to: "Operator!", question: "q?" },
          { to: "operator", question: "   " },
          { to: "operator", question: "q?", options: "yes" },
          { to: "operator", question: "q?", options: [""] },
          { to: "operator", question: "q?", multi: "yes", options: ["a"] },
          { to: "operator", question: "q?", ttl_seconds: 0 },
          { to: "operator", question: "q?", ttl_seconds: 1.5 },
          { to: "operator", question: "q?", ttl_seconds: 8 * 24 * 3600 },
          { to: "operator", question: "x".repeat(2001) },
          { question: "q?" },
        ],
      ],
      [
        a.answer("bob"),
        { id: open.id, text: "a" },
        [
          { id: String(open.id), text: "a" },
          { id: open.id, text: "  " },
          { id: open.id },
          { id: 0, text: "a" },
        ],
      ],
      [a.asks("alice"), { all: true }, [{ all: "yes" }, { all: 1 }]],
      [a.cancelAsk("alice"), { id: open.id }, [{ id: -1 }, { id: null }, {}]],
      [a.threads("alice"), {}, [{ all: true }, []]],
      [op.questions, { all: true }, [{ all: "true" }]],
      [
        op.answer,
        { id: toOp.id, text: "a" },
        [
          { id: toOp.id },
          { id: toOp.id, options: [] },
          { id: toOp.id, options: "x" },
          { id: toOp.id, text: 5 },
          { id: "1", text: "a" },
        ],
      ],
      [op.cancelQuestion, { id: toOp.id }, [{ id: "x" }, { id: 1.5 }, {}]],
      [op.threads, { agent: "alice" }, [{ agent: "Alice" }, { agent: "operator" }, { agent: 3 }]],
    ];
    for (const [subject, valid, wrongs] of cases) {
      const payloads: (string | object)[] = [
        "not json",
        "",
        "[1,2",
        { ...valid, extra: true },
        ...wrongs,
      ];
      for (const payload of payloads) {
        const reply = await t.hive.raw(subject, payload);
        assert.equal(
          errorCode(reply),
          ErrorCode.BadRequest,
          `${subject} ${JSON.stringify(payload)}`,
        );
      }
    }
    // A bad agent token in the subject, with a payload that is fine.
    const badTokens = ["Alice", "operator", "system", "a_b", "averyverylongname"];
    for (const token of badTokens) {
      for (const [subject, payload] of [
        [a.ask(token), { to: "operator", question: "q?" }],
        [a.answer(token), { id: open.id, text: "a" }],
        [a.asks(token), {}],
        [a.cancelAsk(token), { id: open.id }],
        [a.threads(token), {}],
      ] as const) {
        const reply = await t.hive.raw(subject, payload);
        assert.equal(errorCode(reply), ErrorCode.BadRequest, `${subject}`);
      }
    }
    assert.deepEqual(await snapshot(), before);
  });

  it("takes the asker from the subject only: a payload naming one is refused; others' questions are out of reach", async () => {
    const before = await snapshot();
    for (const field of ["asker", "from", "by"]) {
      const reply = await t.hive.raw(subjects.agent.ask("alice"), {
        to: "operator",
        question: "who am I?",
        [field]: "bob",
      });
      assert.equal(errorCode(reply), ErrorCode.BadRequest, field);
      const cancel = await t.hive.raw(subjects.agent.cancelAsk("bob"), { id: 1, asker: "alice" });
      assert.equal(errorCode(cancel), ErrorCode.BadRequest);
      const answer = await t.hive.raw(subjects.op.answer, { id: 1, text: "x", by: "bob" });
      assert.equal(errorCode(answer), ErrorCode.BadRequest);
    }
    assert.deepEqual(await snapshot(), before);

    const mine = await call.as("alice").ask({ to: "carol", question: "whose?" });
    assert.equal(mine.asker, "alice", "the subject's agent");
    const bob = call.as("bob");
    await assert.rejects(bob.cancel(mine.id), hiveError(ErrorCode.NotFound, /of yours/));
    await assert.rejects(
      bob.answer({ id: mine.id, text: "x" }),
      hiveError(ErrorCode.NotFound, /put to you/),
    );
    assert.ok(!(await bob.asks(true)).some((q) => q.id === mine.id));
    assert.equal(
      (await call.as("carol").answer({ id: mine.id, text: "yours" })).answered_by,
      "carol",
    );
  });

  it("refuses callers that are no active agent: unknown, and destroyed", async () => {
    new Registry(t.hive.db).register("tom", "agent", t.hive.clock.now());
    new Registry(t.hive.db).tombstone("tom", t.hive.clock.now());
    const before = await snapshot();
    for (const who of ["zed", "tom"]) {
      const me = call.as(who);
      const forbidden = hiveError(ErrorCode.Forbidden, new RegExp(`${who} is not an active agent`));
      await assert.rejects(me.ask({ to: "operator", question: "hello?" }), forbidden);
      await assert.rejects(me.answer({ id: 1, text: "x" }), forbidden);
      await assert.rejects(me.asks(), forbidden);
      await assert.rejects(me.cancel(1), forbidden);
      await assert.rejects(me.threads(), forbidden);
    }
    await assert.rejects(call.op.threads({ agent: "zed" }), hiveError(ErrorCode.NotFound));
    assert.deepEqual(await snapshot(), before);
  });
});
