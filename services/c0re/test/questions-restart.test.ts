import assert from "node:assert/strict";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { z } from "zod";
import { useQuestionsHive } from "./questions-hive.js";

const Told = z.object({ target_told: z.number(), asker_told: z.number() });

/**
 * A question's messages across c0re restarts, with a real nats-server, broker and sqlite and c0re
 * on a test clock: what the broker had not taken is sent again at the next start, with the same
 * client id, so it lands once; what fell due meanwhile is expired at start, each message sent once.
 */
describe("questions across c0re restarts", () => {
  const t = useQuestionsHive("c0re-questions-restart-");
  const call = t.call;
  /** The requests c0re made with `clientId`. */
  const sends = (clientId: string) => t.hive.seen.sysSends.filter((s) => s.client_id === clientId);
  /** How many of `agent`'s messages match `re`. */
  const count = async (agent: string, re: RegExp) =>
    (await t.hive.mail(agent)).filter((m) => re.test(m.body)).length;
  /** Whether the broker took question #id's messages, as c0re recorded it. */
  const told = (id: number) =>
    Told.parse(
      t.hive.db.prepare("SELECT target_told, asker_told FROM questions WHERE id = ?").get(id),
    );

  it("sends a question again at start when the broker had not taken it, and it lands once", async () => {
    await t.hive.stopBroker();
    const q = await call.as("alice").ask({ to: "bob", question: "Are you up?" });
    const clientId = `c0re-question-${q.id}-asked`;
    await waitUntil(() => sends(clientId).length >= 1, { what: "a first try" });
    await t.hive.stopC0re();
    assert.equal(told(q.id).target_told, 0, "not recorded as delivered");

    await t.hive.startBroker();
    await t.hive.startC0re();
    await t.hive.waitMail("bob", new RegExp(`^question #${q.id} `));
    await waitUntil(() => told(q.id).target_told === 1, { what: "recorded as delivered" });
    assert.equal(await count("bob", new RegExp(`^question #${q.id} `)), 1);
    await t.hive.sync();
    assert.ok(sends(clientId).length >= 2, "tried again");
    assert.ok(sends(clientId).every((s) => s.to === "bob"));
  });

  it("a message the broker took but c0re did not record is sent again with the same client id, and stored once", async () => {
    const q = await call.as("alice").ask({ to: "bob", question: "Coffee?" });
    await t.hive.waitMail("bob", new RegExp(`^question #${q.id} `));
    const answered = await call.as("bob").answer({ id: q.id, text: "yes" });
    await t.hive.waitMail("alice", new RegExp(`^question #${answered.id} .*\\nanswer: yes$`));
    await waitUntil(() => told(q.id).asker_told === 1, { what: "the outcome recorded" });
    await t.hive.stopC0re();
    // As if c0re had died between the broker's commit and its own record of it.
    t.hive.db
      .prepare("UPDATE questions SET target_told = 0, asker_told = 0 WHERE id = ?")
      .run(q.id);

    const closedId = `c0re-question-${q.id}-closed`;
    await t.hive.startC0re();
    await waitUntil(() => told(q.id).asker_told === 1, { what: "the outcome recorded again" });
    await t.hive.sync();
    assert.equal(sends(closedId).length, 2, "sent again");
    assert.equal(await count("alice", new RegExp(`^question #${q.id} `)), 1, "stored once");
    // A closed question is not asked again.
    assert.equal(sends(`c0re-question-${q.id}-asked`).length, 1);
    assert.equal(await count("bob", new RegExp(`^question #${q.id} `)), 1);
  });

  it("expires at start what fell due while c0re was down, each message sent once; the rest keep their deadlines", async () => {
    const due = await call.as("alice").ask({ to: "bob", question: "Deploy?", ttl_seconds: 60 });
    const later = await call
      .as("alice")
      .ask({ to: "operator", question: "Hire?", ttl_seconds: 600 });
    await t.hive.waitMail("bob", new RegExp(`^question #${due.id} `));
    await t.hive.stopC0re();
    assert.equal(t.hive.clock.pending, 0, "a stopped c0re watches no deadline");
    await t.hive.clock.advance(120_000);

    await t.hive.startC0re();
    await t.hive.waitMail("alice", new RegExp(`^question #${due.id} .*\\nanswer: \\[expired\\]$`));
    await t.hive.waitMail("bob", new RegExp(`^question #${due.id} .*\\nclosed: \\[expired\\]`));
    const expired = (await call.op.questions(true)).find((q) => q.id === due.id);
    assert.equal(expired?.answered_at, t.hive.clock.now(), "expired when c0re came back");
    await t.hive.sync();
    assert.equal(sends(`c0re-question-${due.id}-closed`).length, 1);
    assert.equal(sends(`c0re-question-${due.id}-withdrawn`).length, 1);
    assert.deepEqual([t.hive.clock.pending, t.hive.clock.nextIn], [1, 480_000]);
    await t.hive.clock.advance(480_000);
    assert.equal((await call.op.questions(true)).find((q) => q.id === later.id)?.state, "expired");
  });
});
