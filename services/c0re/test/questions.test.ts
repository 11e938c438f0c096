import assert from "node:assert/strict";
import {
  type AskRequest,
  ErrorCode,
  type Question,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { describe, it } from "vitest";
import { MAX_OPEN_ASKS } from "../src/questions.js";
import { Registry } from "../src/registry.js";
import { hiveError } from "./hive.js";
import { useQuestionsHive } from "./questions-hive.js";

/**
 * Questions through c0re's subjects with a real nats-server, broker and sqlite, c0re on a test
 * clock: asking the operator and agents, the messages that land in inboxes, answers with their
 * option rules, what asking refuses, and the limit. (Expiry and cancelling: questions-closing.)
 */
describe("questions: ask and answer", () => {
  const t = useQuestionsHive("c0re-questions-");
  const call = t.call;
  const alice = call.as("alice");
  const bob = call.as("bob");
  const carol = call.as("carol");

  it("asks the operator: the id at once, answered with text, the outcome in the asker's inbox quoting both", async () => {
    const q = await alice.ask({ to: "operator", question: "Deploy now?", options: ["yes", "no"] });
    assert.equal(q.state, "open");
    assert.deepEqual(
      [q.asker, q.target, q.question, q.options, q.multi, q.expires_at, q.answer],
      ["alice", "operator", "Deploy now?", ["yes", "no"], false, null, null],
    );
    assert.equal(q.created_at, t.hive.clock.now());
    assert.deepEqual(await call.op.questions(), [q]);
    assert.deepEqual(await alice.asks(), [q]);
    const answered = await call.op.answer({ id: q.id, text: "  not before Monday " });
    assert.deepEqual(
      [answered.state, answered.answer, answered.answered_by, answered.answered_at],
      ["answered", "not before Monday", "operator", t.hive.clock.now()],
    );
    const told = await t.hive.waitMail("alice", new RegExp(`^question #${q.id} `));
    assert.equal(
      told.body,
      `question #${q.id} to operator: "Deploy now?"\nanswer: not before Monday`,
    );
    assert.deepEqual(await call.op.questions(), [], "the operator's open list is empty");
    assert.deepEqual(await call.op.questions(true), [answered]);
    assert.deepEqual(await alice.asks(true), [answered]);
    // Nobody mailed the operator the question: the dashboard shows it.
    assert.deepEqual(await t.hive.sent(q.id), [`c0re-question-${q.id}-closed`]);
    await assert.rejects(
      call.op.answer({ id: q.id, text: "again" }),
      hiveError(ErrorCode.Conflict, /was answered already/),
    );
    await assert.rejects(call.op.cancel(q.id), hiveError(ErrorCode.Conflict, /answered already/));
    await assert.rejects(call.op.answer({ id: 9999, text: "x" }), hiveError(ErrorCode.NotFound));
    assert.deepEqual(t.hive.eventsOf(q.id), [q, answered], "one event per change");
  });

  it("the operator answers with options: several only when multi, each one of the question's own", async () => {
    const multi = await alice.ask({
      to: "operator",
      question: "Which regions?",
      options: ["eu", "us", "asia"],
      multi: true,
    });
    const one = await alice.ask({ to: "operator", question: "Which one?", options: ["a", "b"] });
    const refused = [
      [one.id, ["a", "b"], /takes one option, not several/],
      [one.id, ["c"], /"c" is not one of question #\d+'s options \("a", "b"\)/],
      [multi.id, ["eu", "eu"], /option "eu" is chosen twice/],
      [multi.id, ["mars"], /"mars" is not one of/],
    ] as const;
    for (const [id, options, re] of refused) {
      await assert.rejects(
        call.op.answer({ id, options: [...options] }),
        hiveError(ErrorCode.BadRequest, re),
      );
    }
    assert.deepEqual(
      (await call.op.questions()).map((q) => [q.id, q.state]),
      [
        [one.id, "open"],
        [multi.id, "open"],
      ],
      "a refused answer changes nothing",
    );
    const m = await call.op.answer({ id: multi.id, options: ["eu", "asia"] });
    assert.equal(m.answer, "eu, asia");
    // An option and text: the answer names the choice, then the words.
    const o = await call.op.answer({ id: one.id, options: ["b"], text: "but only today" });
    assert.equal(o.answer, "b — but only today");
    await t.hive.waitMail(
      "alice",
      new RegExp(`^question #${multi.id} to operator: "Which regions\\?"\\nanswer: eu, asia$`),
    );
    await t.hive.waitMail(
      "alice",
      new RegExp(`^question #${one.id} .*\\nanswer: b — but only today$`),
    );
  });

  it("asks an agent: the target's inbox has the question with options and how to answer; its answer reaches the asker", async () => {
    const q = await alice.ask({
      to: "bob",
      question: "Can you review PR 12?",
      options: ["now", "later"],
      ttl_seconds: 600,
    });
    assert.equal(q.expires_at, t.hive.clock.now() + 600_000);
    const asked = await t.hive.waitMail("bob", new RegExp(`^question #${q.id} `));
    assert.equal(
      asked.body,
      [
        `question #${q.id} from alice: "Can you review PR 12?"`,
        'options: "now", "later"',
        `answer it with answer(${q.id}, "<your answer>")`,
        `it expires at ${new Date(q.expires_at ?? 0).toISOString()} unless answered`,
      ].join("\n"),
    );
    // It is in bob's inbox for real: his recv leases it.
    const got = await request(t.hive.nc, subjects.agent.recv("bob"), rpcs.recv, {
      wait_seconds: 0,
    });
    assert.equal(got.message?.id, asked.id);
    assert.equal(got.message?.from, "system");

    // Only bob answers it: not another agent, not the operator, not the asker.
    for (const who of [carol, alice]) {
      await assert.rejects(
        who.answer({ id: q.id, text: "me!" }),
        hiveError(ErrorCode.NotFound, /was put to you/),
      );
    }
    await assert.rejects(
      call.op.answer({ id: q.id, text: "me!" }),
      hiveError(ErrorCode.NotFound, /put to bob, not the operator \(alice asked it\)/),
    );
    const answered = await bob.answer({ id: q.id, text: "later, after lunch" });
    assert.deepEqual([answered.answer, answered.answered_by], ["later, after lunch", "bob"]);
    const told = await t.hive.waitMail("alice", new RegExp(`^question #${q.id} `));
    assert.equal(
      told.body,
      `question #${q.id} to bob: "Can you review PR 12?"\nanswer: later, after lunch`,
    );
    await assert.rejects(
      bob.answer({ id: q.id, text: "now after all" }),
      hiveError(ErrorCode.Conflict, /was answered already/),
    );
    // Bob answered it himself: he is not told it closed.
    assert.deepEqual(await t.hive.sent(q.id), [
      `c0re-question-${q.id}-asked`,
      `c0re-question-${q.id}-closed`,
    ]);
    assert.equal(t.hive.clock.pending, 0, "no deadline left to watch");
  });

  it("refuses asking oneself, an unknown or destroyed agent, multi without options, an option twice; and more than the open limit", async () => {
    new Registry(t.hive.db).register("tom", "agent", t.hive.clock.now());
    new Registry(t.hive.db).tombstone("tom", t.hive.clock.now());
    const before = t.hive.seen.questions.length;
    const refusals: [AskRequest, ErrorCode, RegExp][] = [
      [{ to: "carol", question: "me?" }, ErrorCode.BadRequest, /cannot ask yourself/],
      [{ to: "zed", question: "who?" }, ErrorCode.NotFound, /no active agent named zed/],
      [{ to: "tom", question: "gone?" }, ErrorCode.NotFound, /no active agent named tom/],
      [{ to: "operator", question: "x", multi: true }, ErrorCode.BadRequest, /multi needs options/],
      [
        { to: "bob", question: "x", options: ["a", "a"] },
        ErrorCode.BadRequest,
        /option "a" is listed twice/,
      ],
    ];
    for (const [req, code, re] of refusals)
      await assert.rejects(carol.ask(req), hiveError(code, re));
    assert.equal(t.hive.seen.questions.length, before, "nothing was asked");

    const asked: Question[] = [];
    for (let i = 0; i < MAX_OPEN_ASKS; i++) {
      asked.push(await carol.ask({ to: "operator", question: `question ${i}` }));
    }
    await assert.rejects(
      carol.ask({ to: "operator", question: "one more" }),
      hiveError(ErrorCode.Conflict, new RegExp(`you have ${MAX_OPEN_ASKS} open questions`)),
    );
    // Another agent is not held back by carol's, and a closed question frees a place.
    await alice.cancel((await alice.ask({ to: "operator", question: "mine" })).id);
    const first = asked[0];
    assert.ok(first);
    await carol.cancel(first.id);
    const more = await carol.ask({ to: "operator", question: "one more" });
    for (const q of [...asked.slice(1), more]) await carol.cancel(q.id);
    assert.deepEqual(await carol.asks(), []);
  });
});
