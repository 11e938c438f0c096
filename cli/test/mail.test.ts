import assert from "node:assert/strict";
import {
  HistoryRequest,
  HistoryResponse,
  QuestionResponse,
  QuestionsResponse,
  SendRequest,
  SendResponse,
  ThreadsResponse,
} from "@hyperhive/shared";
import { describe, it } from "vitest";
import { useFakeHive } from "./fake-hive.js";
import { sampleHistory, sampleQuestions, sampleThreads } from "./fake-mail.js";

/**
 * The operator's commands of issue 7 — `send '*'`, `history`, `questions`, `answer`,
 * `cancel-question`, `threads` — as real `hive` processes against stand-ins for c0re and the
 * broker on a real nats-server: the exact subject and payload, the text and `--json` output, the
 * hive's refusals in one line.
 */
describe("broadcast, history, questions and threads (c0re and the broker stood in for)", () => {
  const hive = useFakeHive();

  it("send '*' is a broadcast on hive.op.send, with a client id", async () => {
    const r = await hive.asked("send", "*", "standup in 5");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.calls.length, 1);
    const [call] = r.calls;
    assert.equal(call?.subject, "hive.op.send");
    assert.match(
      JSON.stringify(call?.payload),
      /^\{"to":"\*","body":"standup in 5","client_id":"cli-[0-9a-f-]{36}"\}$/,
    );
    assert.match(r.stdout, /^sent #\d+ to every agent \(a broadcast\)\n$/);
    const json = await hive.cli("send", "*", "again", "--json");
    assert.equal(SendResponse.parse(JSON.parse(json.stdout)).duplicate, false);
    const one = await hive.cli("send", "alice", "hi");
    assert.match(one.stdout, /^sent #\d+ to alice\n$/);
  });

  it("send --in-reply-to names the message it answers; a bad id is a usage error that sends nothing", async () => {
    const r = await hive.asked("send", "manager", "yes, go", "--in-reply-to", "13");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sent #\d+ to manager\n$/);
    assert.deepEqual(
      r.calls.map((c) => ({ ...SendRequest.parse(c.payload), client_id: "" })),
      [{ to: "manager", body: "yes, go", client_id: "", in_reply_to: 13 }],
    );
    for (const bad of ["0", "-1", "x", "1.5"]) {
      const no = await hive.asked("send", "manager", "hi", `--in-reply-to=${bad}`);
      assert.equal(no.code, 2, bad);
      assert.match(no.stderr, /--in-reply-to must be a whole number from 1/, bad);
      assert.deepEqual(no.calls, [], bad);
    }
  });

  it("history: each message with its delivery, a broadcast once with its ack count", async () => {
    const r = await hive.asked("history");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.history", payload: { limit: 50 } }]);
    assert.equal(
      r.stdout,
      [
        "#14 2026-11-22 10:00:40 operator -> *: broadcast, acked 1/3; alice leased, redelivered (delivery 2), bob queued",
        "  standup in 5",
        "  bring notes",
        "#13 2026-11-22 10:00:30 manager -> operator: in the operator's inbox",
        '  (in reply to #12 from operator: "ping")',
        "  pong: ping",
        "#12 2026-11-22 10:00:20 operator -> manager: acked, redelivered (3 deliveries)",
        "  ping",
        "#11 2026-11-22 10:00:00 alice -> bob: queued, to be redelivered (1 delivery so far)",
        "  (in reply to #9, no longer stored)",
        "  see #9",
        "",
      ].join("\n"),
    );
    const json = await hive.cli("history", "--json");
    assert.deepEqual(HistoryResponse.parse(JSON.parse(json.stdout)), {
      messages: sampleHistory(),
      next_before_id: null,
    });
  });

  it("history's filters go to the broker as the wire names them; the next page is named", async () => {
    const before = Date.now();
    const r = await hive.asked(
      "history",
      "--agent",
      "operator",
      "--thread",
      "12",
      "--since",
      "2h",
      "--limit",
      "2",
    );
    const after = Date.now();
    assert.equal(r.code, 0, r.stderr);
    const [call] = r.calls;
    assert.equal(call?.subject, "hive.op.history");
    const { since = 0, ...rest } = HistoryRequest.parse(call?.payload);
    assert.deepEqual(rest, { agent: "operator", thread: 12, limit: 2 });
    assert.ok(since >= before - 7_200_000 && since <= after - 7_200_000, `since ${since}`);
    assert.match(r.stdout, /\n\(older messages: the same with --before 13\)\n$/);
    const page = await hive.asked(
      "history",
      "--before",
      "13",
      "--since",
      "2026-11-22T09:30",
      "--until",
      "2026-11-22 11:00+01:00",
    );
    assert.deepEqual(page.calls[0]?.payload, {
      limit: 50,
      before_id: 13,
      since: Date.UTC(2026, 10, 22, 9, 30),
      until: Date.UTC(2026, 10, 22, 10, 0),
    });
    assert.match(page.stdout, /^#12 /);
    const empty = await hive.cli("history", "--before", "11");
    assert.equal(empty.stdout, "(no messages)\n");
  });

  it("questions: the open ones put to the operator, whole; --all the rest too", async () => {
    const r = await hive.asked("questions");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.questions", payload: {} }]);
    assert.equal(
      r.stdout,
      [
        "#5 manager -> operator, 2m ago, open (expires in 10m)",
        "  Deploy the new build now?",
        "  options: yes | no",
        "#4 alice -> operator, 5m ago, open",
        "  Which regions?",
        "  All of them is fine too.",
        "  options (one or more): eu | us | asia",
        "",
      ].join("\n"),
    );
    const all = await hive.asked("questions", "--all");
    assert.deepEqual(all.calls, [{ subject: "hive.op.questions", payload: { all: true } }]);
    assert.match(all.stdout, /^#3 alice -> bob, 7m ago, open\n {2}Is the schema frozen\?$/m);
    assert.match(
      all.stdout,
      /^#2 manager -> operator, 2h ago, answered by operator 1h ago\n {2}Spawn a tester\?\n {2}answer: not yet$/m,
    );
    assert.match(all.stdout, /^#1 alice -> operator, 1d ago, cancelled by alice 1d ago\n/m);
    const json = await hive.cli("questions", "--all", "--json");
    assert.deepEqual(QuestionsResponse.parse(JSON.parse(json.stdout)), {
      questions: sampleQuestions(),
    });
    hive.state.questions.clear();
    assert.equal((await hive.cli("questions")).stdout, "(no open questions)\n");
    assert.equal((await hive.cli("questions", "--all")).stdout, "(no questions)\n");
  });

  it("answer with text, with an option, with several (multi), with both", async () => {
    const text = await hive.asked("answer", "5", "yes, after lunch");
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.calls, [
      { subject: "hive.op.answer", payload: { id: 5, text: "yes, after lunch" } },
    ]);
    assert.equal(
      text.stdout,
      'answered question #5 from manager ("Deploy the new build now?"): yes, after lunch\n',
    );
    hive.reset();
    const option = await hive.asked("answer", "5", "--option", "no");
    assert.deepEqual(option.calls[0]?.payload, { id: 5, options: ["no"] });
    assert.equal(
      option.stdout,
      'answered question #5 from manager ("Deploy the new build now?"): no\n',
    );
    const several = await hive.asked("answer", "4", "--option", "eu", "--option=us", "--json");
    assert.deepEqual(several.calls[0]?.payload, { id: 4, options: ["eu", "us"] });
    const answered = QuestionResponse.parse(JSON.parse(several.stdout)).question;
    assert.equal(answered.state, "answered");
    assert.equal(answered.answer, "eu, us");
    hive.reset();
    // Both: sent as given; c0re's answer names the choice, then the words.
    const both = await hive.asked("answer", "4", "eu only for now", "--option", "eu");
    assert.deepEqual(both.calls[0]?.payload, {
      id: 4,
      options: ["eu"],
      text: "eu only for now",
    });
    assert.match(both.stdout, /: eu — eu only for now\n$/);
  });

  it("the hive's refusals of an answer in one line, exit 1, not tried again", async () => {
    const wrong = await hive.asked("answer", "5", "--option", "maybe");
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      'hive: "maybe" is not one of question #5\'s options ("yes", "no")\n',
    );
    const two = await hive.asked("answer", "5", "--option", "yes", "--option", "no");
    assert.equal(two.stderr, "hive: question #5 takes one option, not several\n");
    assert.equal((await hive.cli("answer", "5", "ok")).code, 0);
    const twice = await hive.asked("answer", "5", "again");
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "hive: question #5 was answered already\n");
    assert.equal(twice.calls.length, 1, "a conflict is not tried again");
    const unknown = await hive.cli("answer", "99", "x", "--json");
    assert.equal(unknown.code, 1);
    assert.deepEqual(JSON.parse(unknown.stdout), {
      error: { code: "not_found", message: "no question #99", retryable: false },
    });
    const theirs = await hive.cli("answer", "3", "yes");
    assert.equal(
      theirs.stderr,
      "hive: question #3 was put to bob, not the operator (alice asked it)\n",
    );
  });

  it("cancel-question: any open one; its asker is told", async () => {
    const r = await hive.asked("cancel-question", "3");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.cancel_question", payload: { id: 3 } }]);
    assert.equal(
      r.stdout,
      'cancelled question #3 from alice to bob ("Is the schema frozen?"); alice is told [cancelled]\n',
    );
    assert.equal(hive.state.questions.get(3)?.state, "cancelled");
    const again = await hive.cli("cancel-question", "3");
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "hive: question #3 was cancelled already\n");
    const json = await hive.cli("cancel-question", "5", "--json");
    assert.equal(QuestionResponse.parse(JSON.parse(json.stdout)).question.answer, "[cancelled]");
  });

  it("threads: one agent's with its role, counterparty, age and expiry; the hive's with who waits on whom", async () => {
    const alice = await hive.asked("threads", "alice");
    assert.equal(alice.code, 0, alice.stderr);
    assert.deepEqual(alice.calls, [{ subject: "hive.op.threads", payload: { agent: "alice" } }]);
    assert.equal(
      alice.stdout,
      [
        "THREAD       ROLE    COUNTERPARTY  SUMMARY                AGE     EXPIRES",
        "question #3  asker   bob           Is the schema frozen?  7m ago  -",
        "question #4  asker   operator      Which regions?         5m ago  -",
        "question #6  target  bob           Review my PR?          1m ago  in 10m",
        "",
      ].join("\n"),
    );
    const manager = await hive.asked("threads", "manager");
    assert.equal(
      manager.stdout,
      [
        "THREAD       ROLE       COUNTERPARTY  SUMMARY                    AGE     EXPIRES",
        "question #3  -          alice -> bob  Is the schema frozen?      7m ago  -",
        "approval #7  submitter  operator      spawn carol                3m ago  -",
        "question #5  asker      operator      Deploy the new build now?  2m ago  in 10m",
        "",
      ].join("\n"),
    );
    const all = await hive.asked("threads");
    assert.deepEqual(all.calls, [{ subject: "hive.op.threads", payload: {} }]);
    assert.equal(
      all.stdout,
      [
        "THREAD       FROM     TO        SUMMARY                    AGE     EXPIRES",
        "question #3  alice    bob       Is the schema frozen?      7m ago  -",
        "approval #7  manager  operator  spawn carol                3m ago  -",
        "question #5  manager  operator  Deploy the new build now?  2m ago  in 10m",
        "",
      ].join("\n"),
    );
    const json = await hive.cli("threads", "alice", "--json");
    assert.deepEqual(ThreadsResponse.parse(JSON.parse(json.stdout)), {
      threads: sampleThreads("alice"),
    });
    assert.equal((await hive.cli("threads", "carol")).stdout, "(nothing open for carol)\n");
    const nobody = await hive.cli("threads", "dave");
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, "hive: no agent named dave\n");
  });
});
