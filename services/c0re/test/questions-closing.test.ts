import assert from "node:assert/strict";
import { ErrorCode } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { hiveError } from "./hive.js";
import { useQuestionsHive } from "./questions-hive.js";

/**
 * How questions close other than by an answer, with a real nats-server, broker and sqlite, c0re
 * on a test clock: expiry (one timer, for the earliest deadline), the asker's and the operator's
 * cancel and who is told, and the events of every change, in order.
 */
describe("questions: expire, cancel, events", () => {
  const t = useQuestionsHive("c0re-questions-closing-");
  const call = t.call;
  const alice = call.as("alice");
  const bob = call.as("bob");
  const carol = call.as("carol");

  it("expires on the clock: one timer, for the earliest deadline, re-armed as questions come and go", async () => {
    assert.equal(t.hive.clock.pending, 0);
    const late = await alice.ask({ to: "operator", question: "Lunch?", ttl_seconds: 60 });
    const early = await alice.ask({ to: "bob", question: "Still there?", ttl_seconds: 30 });
    const never = await alice.ask({ to: "operator", question: "Holiday in May?" });
    assert.deepEqual([t.hive.clock.pending, t.hive.clock.nextIn], [1, 30_000]);
    await t.hive.waitMail("bob", new RegExp(`^question #${early.id} `));

    await t.hive.clock.advance(29_999);
    assert.equal((await alice.asks()).length, 3, "nothing is due yet");
    await t.hive.clock.advance(1);
    const expired = await t.hive.closed(early);
    assert.deepEqual(
      [expired.state, expired.answer, expired.answered_by, expired.answered_at],
      ["expired", "[expired]", "system", early.expires_at],
    );
    const toAlice = await t.hive.waitMail("alice", new RegExp(`^question #${early.id} `));
    assert.equal(toAlice.body, `question #${early.id} to bob: "Still there?"\nanswer: [expired]`);
    const toBob = await t.hive.waitMail("bob", new RegExp(`^question #${early.id} .*\\nclosed:`));
    assert.equal(
      toBob.body,
      `question #${early.id} from alice: "Still there?"\nclosed: [expired]; no answer is needed`,
    );
    await assert.rejects(
      bob.answer({ id: early.id, text: "yes!" }),
      hiveError(ErrorCode.Conflict, /was expired already/),
    );
    assert.deepEqual(
      [t.hive.clock.pending, t.hive.clock.nextIn],
      [1, 30_000],
      "re-armed for the next",
    );

    // An earlier deadline takes the one timer; answering it hands the timer back.
    const sooner = await alice.ask({ to: "operator", question: "Coffee?", ttl_seconds: 10 });
    assert.deepEqual([t.hive.clock.pending, t.hive.clock.nextIn], [1, 10_000]);
    await call.op.answer({ id: sooner.id, text: "yes" });
    assert.deepEqual([t.hive.clock.pending, t.hive.clock.nextIn], [1, 30_000]);

    await t.hive.clock.advance(30_000);
    assert.equal((await t.hive.closed(late)).answer, "[expired]");
    await t.hive.waitMail("alice", new RegExp(`^question #${late.id} .*\\nanswer: \\[expired\\]$`));
    assert.deepEqual(
      [t.hive.clock.pending, t.hive.clock.nextIn],
      [0, undefined],
      "nothing to watch",
    );
    assert.deepEqual(
      (await alice.asks()).map((q) => q.id),
      [never.id],
    );

    // The operator cancels the one without a deadline.
    const cancelled = await call.op.cancel(never.id);
    assert.deepEqual([cancelled.answer, cancelled.answered_by], ["[cancelled]", "operator"]);
    await t.hive.waitMail(
      "alice",
      new RegExp(`^question #${never.id} .*\\nanswer: \\[cancelled\\]$`),
    );
    await assert.rejects(
      call.op.cancel(never.id),
      hiveError(ErrorCode.Conflict, /was cancelled already/),
    );
  });

  it("cancel_ask: the asker's own only; the target is told it need not answer, the asker is not mailed", async () => {
    const q = await alice.ask({ to: "bob", question: "Pair on the parser?" });
    await t.hive.waitMail("bob", new RegExp(`^question #${q.id} `));
    await assert.rejects(
      bob.cancel(q.id),
      hiveError(ErrorCode.NotFound, /no question #\d+ of yours/),
    );
    await assert.rejects(alice.cancel(9999), hiveError(ErrorCode.NotFound));
    assert.deepEqual(
      (await bob.asks(true)).filter((x) => x.asker !== "bob"),
      [],
      "bob lists his own only",
    );
    const cancelled = await alice.cancel(q.id);
    assert.deepEqual(
      [cancelled.state, cancelled.answer, cancelled.answered_by],
      ["cancelled", "[cancelled]", "alice"],
    );
    const toBob = await t.hive.waitMail("bob", new RegExp(`^question #${q.id} .*\\nclosed:`));
    assert.equal(
      toBob.body,
      `question #${q.id} from alice: "Pair on the parser?"\nclosed: [cancelled] by alice; no answer is needed`,
    );
    assert.deepEqual(await t.hive.sent(q.id), [
      `c0re-question-${q.id}-asked`,
      `c0re-question-${q.id}-withdrawn`,
    ]);
    await assert.rejects(alice.cancel(q.id), hiveError(ErrorCode.Conflict, /cancelled already/));
    await assert.rejects(bob.answer({ id: q.id, text: "sure" }), hiveError(ErrorCode.Conflict));

    // The operator may cancel any open question: both sides are told.
    const other = await carol.ask({ to: "bob", question: "Lend me a hand?" });
    await call.op.cancel(other.id);
    await t.hive.waitMail(
      "carol",
      new RegExp(`^question #${other.id} .*\\nanswer: \\[cancelled\\]$`),
    );
    await t.hive.waitMail(
      "bob",
      new RegExp(
        `^question #${other.id} from carol: .*\\nclosed: \\[cancelled\\] by the operator;`,
      ),
    );
  });

  it("publishes every change on hive.events.questions, in order, as the replies say", async () => {
    const from = t.hive.seen.questions.length;
    const a = await alice.ask({ to: "operator", question: "A?" });
    const b = await bob.ask({ to: "alice", question: "B?", ttl_seconds: 5 });
    const bAnswered = await alice.answer({ id: b.id, text: "b" });
    const aCancelled = await call.op.cancel(a.id);
    const c = await carol.ask({ to: "bob", question: "C?", ttl_seconds: 1 });
    await t.hive.clock.advance(1000);
    await waitUntil(() => t.hive.seen.questions.length >= from + 6, { what: "six events" });
    const events = t.hive.seen.questions.slice(from).map((e) => e.question);
    assert.deepEqual(events.slice(0, 5), [a, b, bAnswered, aCancelled, c]);
    assert.deepEqual([events[5]?.id, events[5]?.state], [c.id, "expired"]);
    assert.equal(events.length, 6);
  });
});
