import assert from "node:assert/strict";
import {
  type Approval,
  ApprovalEvent,
  ErrorCode,
  HiveError,
  type OpenThread,
  publishEvent,
  type Question,
  QuestionEvent,
  rpcs,
  serve,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { browserScope, dataIds, failedLoad, texts } from "./chromium.js";
import { agentInfo, question, spawnApproval } from "./fixtures.js";
import { type Recorder, record, TOKEN } from "./helpers.js";

/** `agent`'s open threads as c0re builds them (the manager's hive-wide), oldest first. */
function threadsOf(
  agent: string | undefined,
  qs: Iterable<Question>,
  approvals: Iterable<Approval>,
): OpenThread[] {
  const wide = agent === undefined || agent === "manager";
  const now = Date.now();
  const age = (at: number) => Math.max(0, Math.floor((now - at) / 1000));
  const pending: OpenThread[] = [...approvals]
    .filter((a) => a.state === "pending" && (wide || a.submitter === agent))
    .map((a) => ({
      kind: "approval",
      id: a.id,
      summary: a.summary,
      submitter: a.submitter,
      counterparty: "operator",
      created_at: a.created_at,
      age_seconds: age(a.created_at),
    }));
  const asked: OpenThread[] = [...qs]
    .filter((q) => q.state === "open" && (wide || q.asker === agent || q.target === agent))
    .map((q) => {
      const role = q.asker === agent ? "asker" : q.target === agent ? "target" : null;
      return {
        kind: "question",
        id: q.id,
        summary: q.question,
        asker: q.asker,
        target: q.target,
        role,
        counterparty: role === "target" ? q.asker : q.target,
        created_at: q.created_at,
        expires_at: q.expires_at,
        age_seconds: age(q.created_at),
      };
    });
  return [...pending, ...asked].sort((a, b) => a.created_at - b.created_at);
}

describe("questions and open threads, in a real headless Chromium (c0re stood in for on NATS)", () => {
  /** c0re's questions and approvals as the stand-in keeps them. */
  const questions = new Map<number, Question>();
  const approvals = new Map<number, Approval>();
  let questionsAsked = 0;
  let answer: Recorder<{ id: number; text?: string; options?: string[] }>;
  let cancel: Recorder<{ id: number }>;
  let threads: Recorder<{ agent?: string }>;

  /** What c0re does when a question changes: keep it, publish its event. */
  const change = (q: Question) => {
    questions.set(q.id, q);
    publishEvent(t.h.nc, subjects.events.questions, QuestionEvent, { question: q });
    return q;
  };
  /** Closes an open question as c0re does; a closed one is a conflict. */
  const close = (id: number, state: Question["state"], answerText: string, by: string) => {
    const q = questions.get(id);
    if (q === undefined) throw new HiveError(ErrorCode.NotFound, `no question #${id}`);
    if (q.state !== "open") {
      throw new HiveError(ErrorCode.Conflict, `question #${id} was ${q.state} already`);
    }
    return change({ ...q, state, answer: answerText, answered_at: Date.now(), answered_by: by });
  };

  const t = browserScope((h) => {
    for (const q of [
      question(1, "alice", { question: "deploy now?", options: ["yes", "no"] }),
      question(2, "bob", {
        question: "which regions?",
        options: ["eu", "us", "asia"],
        multi: true,
        expires_at: null,
      }),
      question(3, "alice", { question: "what should the release be called?" }),
      question(4, "alice", { target: "bob", question: "is the parser merged?" }),
      question(5, "carol", { target: "alice", question: "can you review my branch?" }),
      question(9, "bob", {
        question: "an old one",
        state: "answered",
        answer: "done",
        answered_at: Date.now() - 30_000,
        answered_by: "operator",
      }),
    ]) {
      questions.set(q.id, q);
    }
    approvals.set(7, spawnApproval(7, "dave"));
    answer = record(h.nc, subjects.op.answer, rpcs.opAnswer, (req) => ({
      question: close(
        req.id,
        "answered",
        [(req.options ?? []).join(", "), req.text ?? ""].filter((p) => p !== "").join(" — "),
        "operator",
      ),
    }));
    cancel = record(h.nc, subjects.op.cancelQuestion, rpcs.opCancelQuestion, (req) => ({
      question: close(req.id, "cancelled", "[cancelled]", "operator"),
    }));
    threads = record(h.nc, subjects.op.threads, rpcs.opThreads, (req) => ({
      threads: threadsOf(req.agent, questions.values(), approvals.values()),
    }));
    return [
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: ["manager", "alice", "bob", "carol"].map((n) => agentInfo(n)),
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, () => ({
        approvals: [...approvals.values()],
      })),
      serve(h.nc, subjects.op.questions, rpcs.opQuestions, (req) => {
        questionsAsked++;
        assert.equal(req.all, true, "the dashboard loads every question");
        return { questions: [...questions.values()].sort((a, b) => b.id - a.id) };
      }),
      answer.service,
      cancel.service,
      threads.service,
    ];
  });

  it("lists the operator's open questions with asker, age and expiry; options as radios, checkboxes when multi", async () => {
    await t.page.goto(`${t.url}/?token=${TOKEN}`);
    await t.page.locator('#questions li[data-id="3"]').waitFor();
    assert.deepEqual(await dataIds(t.page, "#questions > li"), ["1", "2", "3"], "oldest first");
    assert.equal(await t.page.locator("#questions-count").textContent(), "3");
    const q1 = t.page.locator('#questions li[data-id="1"]');
    assert.equal(await q1.locator(".asker").textContent(), "alice");
    assert.equal(await q1.locator(".question-text").textContent(), "deploy now?");
    assert.match((await q1.locator(".question-head").textContent()) ?? "", /1m ago/);
    assert.match((await q1.locator(".expiry").textContent()) ?? "", /^expires in (9|10)m$/);
    assert.equal(await q1.locator('input[type="radio"]').count(), 2);
    assert.equal(await q1.locator('input[type="checkbox"]').count(), 0);
    const q2 = t.page.locator('#questions li[data-id="2"]');
    assert.equal(await q2.locator('input[type="checkbox"]').count(), 3);
    assert.equal(await q2.locator(".expiry").textContent(), "no expiry");
    const q3 = t.page.locator('#questions li[data-id="3"]');
    assert.equal(await q3.locator("input[type=radio], input[type=checkbox]").count(), 0);
    assert.equal(await q3.locator("button.answer-go").isDisabled(), true, "nothing to send yet");

    // Agents' questions to each other: a quieter list, with only a cancel; the closed ones folded.
    assert.deepEqual(await dataIds(t.page, "#questions-between li"), ["4", "5"]);
    assert.match(
      (await t.page.locator('#questions-between li[data-id="4"]').textContent()) ?? "",
      /alice→ bob.*is the parser merged\?/,
    );
    assert.equal(await t.page.locator("#questions-between .answer").count(), 0);
    assert.deepEqual(await dataIds(t.page, "#questions-closed li"), ["9"]);
    assert.equal(await t.page.locator('#questions-closed li[data-id="9"]').isVisible(), false);
    await t.page.screenshot({ path: "/tmp/hive-questions.png", fullPage: true });
  });

  it("answers with one option; the question moves to the closed ones", async () => {
    const q1 = t.page.locator('#questions li[data-id="1"]');
    await q1.getByLabel("no").check();
    await q1.getByLabel("yes").check();
    await q1.locator("button.answer-go").click();
    await t.page
      .locator('#questions-closed li[data-id="1"][data-state="answered"]')
      .waitFor({ state: "attached" });
    assert.deepEqual(answer.seen, [
      { subject: subjects.op.answer, req: { id: 1, options: ["yes"] } },
    ]);
    assert.match(
      (await t.page.locator('#questions-closed li[data-id="1"] .outcome').textContent()) ?? "",
      /^answered by operator at .*: yes$/,
    );
    assert.equal(await t.page.locator('#questions li[data-id="1"]').count(), 0);
  });

  it("answers a multi question with several options and a note, and one with free text", async () => {
    const q2 = t.page.locator('#questions li[data-id="2"]');
    await q2.getByLabel("eu").check();
    await q2.getByLabel("asia").check();
    await q2.getByLabel("us").check();
    await q2.getByLabel("us").uncheck();
    await q2.locator("input.answer-text").fill("  eu first ");
    await q2.locator("button.answer-go").click();
    await t.page.locator('#questions-closed li[data-id="2"]').waitFor({ state: "attached" });

    const q3 = t.page.locator('#questions li[data-id="3"]');
    await q3.locator("input.answer-text").fill("Hyperhive 1.0");
    await q3.locator("input.answer-text").press("Enter");
    await t.page.locator('#questions-closed li[data-id="3"]').waitFor({ state: "attached" });
    assert.deepEqual(
      answer.seen.slice(1).map((s) => s.req),
      [
        { id: 2, options: ["eu", "asia"], text: "eu first" },
        { id: 3, text: "Hyperhive 1.0" },
      ],
    );
    assert.equal(
      await t.page.locator("#questions > li.empty").textContent(),
      "no questions for you",
    );
    assert.equal(await t.page.locator("#questions-count").count(), 0);
  });

  it("shows a new question live from its event, cancels it, and moves one closed elsewhere — never asking for the list again", async () => {
    const asked = questionsAsked;
    change(question(10, "carol", { question: "may I restart the db?", options: ["ok"] }));
    const q10 = t.page.locator('#questions li[data-id="10"]');
    await q10.waitFor();
    await q10.locator("button.cancel-question").click();
    await t.page
      .locator('#questions-closed li[data-id="10"][data-state="cancelled"]')
      .waitFor({ state: "attached" });
    assert.deepEqual(cancel.seen, [{ subject: subjects.op.cancelQuestion, req: { id: 10 } }]);

    // Answered elsewhere (`hive answer 11 …`), then one expiring: their events move them.
    change(question(11, "bob", { question: "coffee?" }));
    await t.page.locator('#questions li[data-id="11"]').waitFor();
    close(11, "answered", "later", "operator");
    await t.page
      .locator('#questions-closed li[data-id="11"][data-state="answered"]')
      .waitFor({ state: "attached" });
    change(question(12, "bob", { question: "tea?" }));
    await t.page.locator('#questions li[data-id="12"]').waitFor();
    close(12, "expired", "[expired]", "system");
    await t.page
      .locator('#questions-closed li[data-id="12"][data-state="expired"]')
      .waitFor({ state: "attached" });
    assert.equal(
      await t.page.locator('#questions-closed li[data-id="12"] .outcome').textContent(),
      `expired by system at ${await t.page.evaluate(
        (at) => new Date(at).toLocaleString(),
        questions.get(12)?.answered_at ?? 0,
      )}`,
    );
    // Between agents: answered by the target, the list says so.
    close(4, "answered", "yes, merged", "bob");
    await t.page.locator('#questions-between li[data-id="4"][data-state="answered"]').waitFor();
    assert.equal(questionsAsked, asked, "events carry every change: no refetch");
  });

  it("says inline when a question was closed already (conflict), changing nothing", async () => {
    change(question(13, "alice", { question: "still there?" }));
    const q13 = t.page.locator('#questions li[data-id="13"]');
    await q13.waitFor();
    // Closed behind the page's back, its event lost: the page still shows it open.
    const q = questions.get(13);
    assert.ok(q);
    questions.set(13, { ...q, state: "cancelled", answer: "[cancelled]", answered_by: "alice" });
    await q13.locator("input.answer-text").fill("yes");
    await q13.locator("button.answer-go").click();
    const problem = q13.locator('[role="alert"]');
    await problem.waitFor({ state: "visible" });
    assert.equal(await problem.textContent(), "conflict: question #13 was cancelled already");
    assert.deepEqual(t.errors.splice(0), [failedLoad(409, "Conflict")]);
  });

  it("shows an agent's open threads on its page — asked, owed — and keeps them live from events", async () => {
    const before = threads.seen.length;
    await t.page.goto(`${t.url}/agents/alice`);
    await t.page.locator('#threads li[data-kind="question"]').first().waitFor();
    assert.deepEqual(threads.seen.at(-1)?.req, { agent: "alice" });
    // Her own questions are all closed by now; she still owes carol an answer (#5).
    assert.deepEqual(
      await t.page
        .locator("#threads li")
        .evaluateAll((els) => els.map((e) => [e.dataset.kind, e.dataset.id, e.dataset.role])),
      [["question", "5", "target"]],
    );
    const owed = t.page.locator('#threads li[data-id="5"]');
    assert.equal(await owed.locator(".part").textContent(), "owes carol an answer");
    assert.equal(await owed.locator(".part").getAttribute("data-counterparty"), "carol");
    assert.equal(await owed.locator(".summary").textContent(), "can you review my branch?");
    assert.match((await owed.locator(".age").textContent()) ?? "", /^1m ago$/);

    // alice asks the operator something: a question event about her, so the list is asked again.
    change(question(14, "alice", { question: "may I take a day off?" }));
    await t.page.locator('#threads li[data-id="14"][data-role="asker"]').waitFor();
    assert.equal(
      await t.page.locator('#threads li[data-id="14"] .part').textContent(),
      "waits on operator",
    );
    // A question between others is not alice's business: no reload; the next one about her is.
    const seen = threads.seen.length;
    change(question(15, "bob", { target: "carol", question: "lunch?" }));
    close(5, "answered", "done, looks good", "alice");
    await t.page.locator('#threads li[data-id="5"]').waitFor({ state: "detached" });
    assert.equal(threads.seen.length, seen + 1, "only the event about alice reloaded them");
    assert.equal(await t.page.locator("#threads-count").textContent(), "1");
    assert.ok(threads.seen.length > before);
    await t.page.screenshot({ path: "/tmp/hive-threads.png", fullPage: true });
  });

  it("shows the manager's hive-wide threads, its approval among them, gone once decided", async () => {
    await t.page.goto(`${t.url}/agents/manager`);
    const approval = t.page.locator('#threads li[data-kind="approval"][data-id="7"]');
    await approval.waitFor();
    assert.equal(await approval.locator(".part").textContent(), "manager waits on the operator");
    assert.equal(await approval.locator(".summary").textContent(), "spawn dave");
    assert.deepEqual(await texts(t.page, '#threads li[data-id="15"] .part'), [
      "bob waits on carol",
    ]);
    const a = approvals.get(7);
    assert.ok(a);
    const decided: Approval = { ...a, state: "approved", decided_at: Date.now() };
    approvals.set(7, decided);
    publishEvent(t.h.nc, subjects.events.approvals, ApprovalEvent, { approval: decided });
    await approval.waitFor({ state: "detached" });
    await waitUntil(() => threads.seen.at(-1)?.req.agent === "manager", { what: "a reload" });
  });
});
