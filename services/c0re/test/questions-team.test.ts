import assert from "node:assert/strict";
import { ErrorCode, request, rpcs, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { QuestionsStore } from "../src/questions-store.js";
import { hiveError } from "./hive.js";
import { useQuestionsHive } from "./questions-hive.js";

/**
 * The team and questions: destroying an agent cancels what it asked or owes and tells the other
 * side; the broadcasts c0re sends when an agent joins or leaves, and who gets them; a purge takes
 * the agent's questions with it. Real nats-server, broker and sqlite; c0re on a test clock.
 */
describe("questions and the team: destroy, purge, join and leave broadcasts", () => {
  const t = useQuestionsHive("c0re-questions-team-");
  const call = t.call;
  const long = { timeoutMs: 30_000 };
  /** Waits for the broadcast whose preview matches `re`. */
  const broadcast = (re: RegExp) =>
    waitUntil(() => t.hive.seen.broadcasts.find((b) => re.test(b.preview)), {
      what: `a broadcast matching ${re}`,
    });
  /** Whether `agent` holds a receipt of message `id` (its inbox has it). */
  const holds = async (agent: string, id: number) =>
    (await t.hive.mail(agent)).some(
      (m) => m.id === id && m.receipts.some((r) => r.recipient === agent),
    );

  it("destroy cancels what the agent asked or owes, tells the other party, and the rest of the hive it left", async () => {
    const alice = call.as("alice");
    const asked = await alice.ask({ to: "bob", question: "Merge it?", ttl_seconds: 600 });
    const owed = await call.as("carol").ask({ to: "alice", question: "Done yet?" });
    const toOp = await alice.ask({ to: "operator", question: "More disk?" });
    const unrelated = await call.as("bob").ask({ to: "carol", question: "Lunch?" });
    await t.hive.waitMail("bob", new RegExp(`^question #${asked.id} `));
    await t.hive.waitMail("alice", new RegExp(`^question #${owed.id} `));
    const from = t.hive.seen.questions.length;

    await request(
      t.hive.nc,
      subjects.op.agentDestroy,
      rpcs.opAgentLifecycle,
      { name: "alice" },
      long,
    );
    await waitUntil(() => t.hive.seen.questions.length >= from + 3, {
      what: "three cancellations",
    });
    assert.deepEqual(
      t.hive.seen.questions
        .slice(from)
        .map((e) => [e.question.id, e.question.state, e.question.answered_by]),
      [
        [asked.id, "cancelled", "system"],
        [owed.id, "cancelled", "system"],
        [toOp.id, "cancelled", "system"],
      ],
    );
    // Bob owed alice an answer: he need not give it. Carol asked alice: she has [cancelled].
    const toBob = await t.hive.waitMail("bob", new RegExp(`^question #${asked.id} .*\\nclosed:`));
    assert.equal(
      toBob.body,
      `question #${asked.id} from alice: "Merge it?"\nclosed: [cancelled]; no answer is needed`,
    );
    const toCarol = await t.hive.waitMail(
      "carol",
      new RegExp(`^question #${owed.id} .*\\nanswer:`),
    );
    assert.equal(toCarol.body, `question #${owed.id} to alice: "Done yet?"\nanswer: [cancelled]`);
    // Alice is a tombstone: nothing more is mailed to her, and nothing is left owed.
    assert.deepEqual(await t.hive.sent(asked.id), [
      `c0re-question-${asked.id}-asked`,
      `c0re-question-${asked.id}-withdrawn`,
    ]);
    assert.deepEqual(await t.hive.sent(owed.id), [
      `c0re-question-${owed.id}-asked`,
      `c0re-question-${owed.id}-closed`,
    ]);
    assert.deepEqual(await t.hive.sent(toOp.id), []);
    await waitUntil(() => new QuestionsStore(t.hive.db).untold().length === 0, {
      what: "every message delivered or needing none",
    });
    assert.equal(t.hive.clock.pending, 0, "alice's deadline is no longer watched");
    assert.equal((await call.as("bob").asks())[0]?.id, unrelated.id, "others' questions stay open");
    await assert.rejects(alice.threads(), hiveError(ErrorCode.Forbidden));
    assert.deepEqual(await call.op.threads({ agent: "alice" }), []);

    // The hive is told, once, as a broadcast: every agent on the roster, not the tombstone.
    const left = await broadcast(/^c0re: alice left the hive/);
    assert.deepEqual(
      [left.from, left.to, left.preview, left.recipients],
      [
        "system",
        "*",
        "c0re: alice left the hive; mail to it is refused",
        ["bob", "carol", "manager"],
      ],
    );
    for (const agent of ["bob", "carol", "manager"]) assert.ok(await holds(agent, left.id), agent);
    assert.ok(!(await holds("alice", left.id)));
  });

  it("a spawn approved is broadcast to every active agent, the newcomer too (its name was on the roster while it waited)", async () => {
    const { approval } = await request(t.hive.nc, subjects.agent.spawn("manager"), rpcs.spawn, {
      name: "dave",
    });
    await request(t.hive.nc, subjects.op.approve, rpcs.opApprove, { id: approval.id }, long);
    const joined = await broadcast(/^c0re: dave joined/);
    assert.deepEqual(
      [joined.from, joined.preview, joined.recipients],
      [
        "system",
        "c0re: dave joined the hive (a sub-agent spawned by the manager)",
        ["bob", "carol", "dave", "manager"],
      ],
    );
    for (const agent of ["bob", "carol", "dave", "manager"]) {
      assert.ok(await holds(agent, joined.id), agent);
    }
    assert.ok(!(await holds("alice", joined.id)), "a tombstone gets no broadcast");
    assert.equal(
      t.hive.seen.broadcasts.filter((b) => b.id === joined.id).length,
      1,
      "announced once",
    );
    // The newcomer can take part at once.
    const q = await call.as("dave").ask({ to: "bob", question: "Where do I start?" });
    await t.hive.waitMail("bob", new RegExp(`^question #${q.id} from dave:`));
  });

  it("purge forgets the questions the agent asked: a new agent of that name starts with none", async () => {
    const before = await call.op.questions(true);
    const alices = before.filter((q) => q.asker === "alice");
    assert.equal(alices.length, 2);
    await request(
      t.hive.nc,
      subjects.op.agentPurge,
      rpcs.opPurge,
      { name: "alice", confirm: "alice" },
      long,
    );
    assert.deepEqual(
      await call.op.questions(true),
      before.filter((q) => q.asker !== "alice"),
      "questions put to alice stay in their askers' lists",
    );
    const { approval } = await request(t.hive.nc, subjects.agent.spawn("manager"), rpcs.spawn, {
      name: "alice",
    });
    await request(t.hive.nc, subjects.op.approve, rpcs.opApprove, { id: approval.id }, long);
    assert.deepEqual(await call.as("alice").asks(true), []);
    assert.deepEqual(await call.as("alice").threads(), []);
  });
});
