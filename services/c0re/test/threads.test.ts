import assert from "node:assert/strict";
import {
  ErrorCode,
  type OpenThread,
  type Question,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { describe, it } from "vitest";
import { hiveError } from "./hive.js";
import { useQuestionsHive } from "./questions-hive.js";

/**
 * Open threads, with a real nats-server, broker and sqlite, c0re on a test clock (ages are
 * the clock's): an agent's own, the manager's hive-wide list, the operator's with and without
 * an agent, and what leaves them.
 */
describe("open threads", () => {
  const t = useQuestionsHive("c0re-threads-");
  const call = t.call;

  /** `q` as a thread seen from `role`'s side (null: no part in it). */
  const thread = (q: Question, role: "asker" | "target" | null): OpenThread => ({
    kind: "question",
    id: q.id,
    summary: q.question.length <= 120 ? q.question : `${q.question.slice(0, 119)}…`,
    asker: q.asker,
    target: q.target,
    role,
    counterparty: role === "target" ? q.asker : q.target,
    created_at: q.created_at,
    expires_at: q.expires_at,
    age_seconds: Math.floor((t.hive.clock.now() - q.created_at) / 1000),
  });

  it("lists what is pending against each agent, both roles; the manager's and the operator's are hive-wide", async () => {
    const spawn = await request(t.hive.nc, subjects.agent.spawn("manager"), rpcs.spawn, {
      name: "erin",
    });
    await t.hive.clock.advance(10_000);
    const q1 = await call.as("alice").ask({ to: "bob", question: "Review my branch?" });
    await t.hive.clock.advance(10_000);
    const long = `Which of these ${"very ".repeat(40)}long options do you prefer?`;
    const q2 = await call.as("bob").ask({ to: "alice", question: long, ttl_seconds: 3600 });
    await t.hive.clock.advance(10_000);
    const q3 = await call.as("carol").ask({ to: "operator", question: "Can I have sonnet?" });
    await t.hive.clock.advance(10_000);
    const q4 = await call.as("manager").ask({ to: "alice", question: "Status?" });
    await t.hive.clock.advance(20_500);

    const alice = await call.as("alice").threads();
    assert.deepEqual(alice, [thread(q1, "asker"), thread(q2, "target"), thread(q4, "target")]);
    assert.deepEqual(
      alice.map((t) => [t.id, t.kind === "question" && t.counterparty, t.age_seconds]),
      [
        [q1.id, "bob", 50],
        [q2.id, "bob", 40],
        [q4.id, "manager", 20],
      ],
    );
    const summary = alice[1]?.summary ?? "";
    assert.equal([...summary].length, 120);
    assert.ok(summary.endsWith("…") && long.startsWith(summary.slice(0, -1)));
    assert.deepEqual(await call.as("bob").threads(), [thread(q1, "target"), thread(q2, "asker")]);
    assert.deepEqual(await call.as("carol").threads(), [thread(q3, "asker")]);

    const approval: OpenThread = {
      kind: "approval",
      id: spawn.approval.id,
      summary: "spawn erin",
      submitter: "manager",
      counterparty: "operator",
      created_at: spawn.approval.created_at,
      age_seconds: 60,
    };
    const manager = await call.as("manager").threads();
    assert.deepEqual(manager, [
      approval,
      thread(q1, null),
      thread(q2, null),
      thread(q3, null),
      thread(q4, "asker"),
    ]);
    assert.deepEqual(await call.op.threads({ agent: "manager" }), manager);
    assert.deepEqual(await call.op.threads({ agent: "alice" }), alice);
    assert.deepEqual(await call.op.threads(), [
      approval,
      thread(q1, null),
      thread(q2, null),
      thread(q3, null),
      thread(q4, null),
    ]);
    await assert.rejects(call.op.threads({ agent: "zed" }), hiveError(ErrorCode.NotFound));

    // What is closed or decided leaves the lists.
    await call.as("bob").answer({ id: q1.id, text: "done" });
    await call.as("alice").answer({ id: q4.id, text: "fine" });
    await request(t.hive.nc, subjects.op.deny, rpcs.opDeny, { id: spawn.approval.id });
    await t.hive.clock.advance(3600_000);
    assert.deepEqual(await call.as("alice").threads(), []);
    assert.deepEqual(await call.as("bob").threads(), []);
    assert.deepEqual(await call.as("manager").threads(), [thread(q3, null)]);
    assert.deepEqual(await call.op.threads(), [thread(q3, null)]);
    await call.op.answer({ id: q3.id, text: "yes" });
    assert.deepEqual(await call.op.threads(), []);
  });
});
