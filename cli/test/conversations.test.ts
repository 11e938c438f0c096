import assert from "node:assert/strict";
import {
  HistoryResponse,
  type Question,
  QuestionResponse,
  QuestionsResponse,
  SendResponse,
  type StoredMessage,
  ThreadsResponse,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { z } from "zod";
import { FROM_OPERATOR, SCRIPT } from "./manager-script.js";
import { useScriptedHive } from "./scripted-hive.js";

/**
 * The operator's side of issue 7 against a real `hive up --offline`: the manager's claude (driven
 * by the scripted model server) calls `ask_operator`; `hive questions` lists it, `hive threads`
 * shows it open, `hive answer` answers it, and the manager's next wake prompt quotes question and
 * answer; a question with a ttl ends `[expired]`, one cancelled with `hive cancel-question`
 * `[cancelled]`; `hive send '*'` reaches every agent once (one stopped when it was sent, once
 * started), and `hive history` shows the broadcast once with its acks.
 */

/** An `ask_operator` call the manager makes when the operator sends it `word`. */
const asks = (word: string, input: Record<string, unknown>) => ({
  match: `${FROM_OPERATOR}${word}\\b`,
  reply: [
    { tool_use: { name: "mcp__hyperhive__ask_operator", input } },
    { text: "Asked the operator." },
  ],
});

const DEPLOY = "Deploy the new build now?";
const REGIONS = "Which regions should get it?";
const BRIEF = "Still there? (no need to answer)";
const WAIT = "Should I wait for the release?";

/** The manager's script: four questions to the operator, then the team's script. */
const CONVERSATION_SCRIPT = [
  asks("ask-deploy", { question: DEPLOY, options: ["yes", "no"] }),
  asks("ask-regions", { question: REGIONS, options: ["eu", "us", "asia"], multi: true }),
  asks("ask-brief", { question: BRIEF, ttl_seconds: 2 }),
  asks("ask-wait", { question: WAIT }),
  ...SCRIPT,
];

/** The hive's mark on a broadcast in the wake prompt. */
const BROADCAST_NOTE = "(this was a broadcast and may not need any action from you)";

describe("broadcast, questions and open threads through the hive CLI (hive up --offline)", () => {
  const { cli, json, logged, agent, reply, pendingSpawn } = useScriptedHive({
    prefix: "hive-cli-talk-",
    script: CONVERSATION_SCRIPT,
  });
  /** Waits for a prompt to the model server that contains every one of `parts`. */
  const prompted = (what: string, ...parts: string[]) =>
    waitUntil(async () => (await logged()).find((q) => parts.every((p) => q.text.includes(p))), {
      timeoutMs: 60_000,
      intervalMs: 300,
      what,
    });
  /** Waits for the manager's question `text` in `hive questions --all --json`, in `state`. */
  const question = (text: string, state: Question["state"]) =>
    waitUntil(
      async () =>
        QuestionsResponse.parse(await json("questions", "--all")).questions.find(
          (q) => q.question === text && q.state === state,
        ),
      { timeoutMs: 60_000, intervalMs: 300, what: `the question "${text}" ${state}` },
    );
  /** Waits until message `id` in `hive history --json` satisfies `ok`. */
  const stored = (id: number, what: string, ok: (m: StoredMessage) => boolean) =>
    waitUntil(
      async () => {
        const page = HistoryResponse.parse(await json("history", "--limit", "100"));
        const m = page.messages.find((x) => x.id === id);
        return m && ok(m) ? m : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300, what },
    );

  it("ask_operator: hive questions lists it, hive threads shows it open, hive answer --option answers; the wake prompt quotes both", async () => {
    assert.equal((await cli("send", "manager", "ask-deploy")).code, 0);
    const q = await question(DEPLOY, "open");
    assert.deepEqual(
      { ...q, id: 0, created_at: 0 },
      {
        id: 0,
        asker: "manager",
        target: "operator",
        question: DEPLOY,
        options: ["yes", "no"],
        multi: false,
        created_at: 0,
        expires_at: null,
        state: "open",
        answer: null,
        answered_at: null,
        answered_by: null,
      },
    );
    const open = QuestionsResponse.parse(await json("questions")).questions;
    assert.deepEqual(
      open.map((x) => x.id),
      [q.id],
      "open, put to the operator",
    );
    const listed = await cli("questions");
    assert.match(
      listed.stdout,
      new RegExp(
        `^#${q.id} manager -> operator, \\d+s ago, open\\n {2}${DEPLOY.replace("?", "\\?")}\\n {2}options: yes \\| no\\n$`,
      ),
    );

    const threads = ThreadsResponse.parse(await json("threads", "manager")).threads;
    const thread = threads.find((t) => t.kind === "question" && t.id === q.id);
    assert.ok(thread?.kind === "question", JSON.stringify(threads));
    assert.equal(thread.role, "asker");
    assert.equal(thread.counterparty, "operator");
    assert.equal(thread.summary, DEPLOY);
    assert.match(
      (await cli("threads", "manager")).stdout,
      new RegExp(
        `^question #${q.id}\\s+asker\\s+operator\\s+Deploy the new build now\\?\\s+\\d+s ago\\s+-$`,
        "m",
      ),
    );
    assert.match(
      (await cli("threads")).stdout,
      new RegExp(`^question #${q.id}\\s+manager\\s+operator\\s+Deploy`, "m"),
    );

    const answered = await cli("answer", String(q.id), "--option", "yes");
    assert.equal(answered.code, 0, answered.stderr);
    assert.equal(answered.stdout, `answered question #${q.id} from manager ("${DEPLOY}"): yes\n`);
    await prompted(
      "the manager's wake prompt with the answer",
      "from: system",
      `question #${q.id} to operator: "${DEPLOY}"\nanswer: yes`,
    );
    const closed = ThreadsResponse.parse(await json("threads", "manager")).threads;
    assert.equal(
      closed.some((t) => t.kind === "question" && t.id === q.id),
      false,
      "no longer open",
    );
    const again = await cli("answer", String(q.id), "no");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^hive: [^\n]+\n$/, "the hive's refusal in one line");
    assert.equal(again.stdout, "");
  }, 120_000);

  it("a multi question takes several --option and a text; a wrong option is the hive's one-line error", async () => {
    assert.equal((await cli("send", "manager", "ask-regions")).code, 0);
    const q = await question(REGIONS, "open");
    assert.equal(q.multi, true);
    assert.match(
      (await cli("questions")).stdout,
      /^ {2}options \(one or more\): eu \| us \| asia$/m,
    );
    const wrong = await cli("answer", String(q.id), "--option", "mars", "--json");
    assert.equal(wrong.code, 1);
    const err = z
      .object({ error: z.object({ code: z.string(), message: z.string() }) })
      .parse(JSON.parse(wrong.stdout));
    assert.equal(err.error.code, "bad_request");
    const res = QuestionResponse.parse(
      await json("answer", String(q.id), "--option", "eu", "--option", "asia", "eu first"),
    );
    assert.equal(res.question.state, "answered");
    assert.equal(res.question.answered_by, "operator");
    await prompted(
      "the manager's wake prompt with both options and the text",
      `question #${q.id} to operator: "${REGIONS}"\nanswer: eu, asia — eu first`,
    );
  }, 120_000);

  it("a question with a ttl is answered [expired]; hive cancel-question gives [cancelled]", async () => {
    assert.equal((await cli("send", "manager", "ask-brief")).code, 0);
    const expired = await question(BRIEF, "expired");
    assert.equal(expired.answer, "[expired]");
    assert.equal(expired.answered_by, "system");
    assert.equal(expired.expires_at !== null && expired.expires_at - expired.created_at, 2000);
    await prompted(
      "the [expired] answer",
      `question #${expired.id} to operator: "${BRIEF}"\nanswer: [expired]`,
    );
    assert.match(
      (await cli("questions", "--all")).stdout,
      new RegExp(`^#${expired.id} manager -> operator, \\d+s ago, expired \\d+s ago$`, "m"),
    );
    assert.equal(
      QuestionsResponse.parse(await json("questions")).questions.some((x) => x.id === expired.id),
      false,
      "not among the open ones",
    );

    assert.equal((await cli("send", "manager", "ask-wait")).code, 0);
    const q = await question(WAIT, "open");
    const cancelled = await cli("cancel-question", String(q.id));
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(
      cancelled.stdout,
      `cancelled question #${q.id} from manager ("${WAIT}"); manager is told [cancelled]\n`,
    );
    await prompted(
      "the [cancelled] answer",
      `question #${q.id} to operator: "${WAIT}"\nanswer: [cancelled]`,
    );
    const twice = await cli("cancel-question", String(q.id));
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /^hive: [^\n]+\n$/);
  }, 120_000);

  it("hive send '*' reaches every agent once, one stopped at the time when it starts; history shows it once with its acks", async () => {
    // A second agent: the manager asks for alice, the operator approves.
    assert.equal((await cli("send", "manager", "spawn alice")).code, 0);
    const spawn = await pendingSpawn("alice");
    assert.equal((await cli("approve", String(spawn.id))).code, 0);
    await waitUntil(async () => (await agent("alice"))?.running, {
      timeoutMs: 60_000,
      what: "alice running",
    });

    const sent = await cli("send", "*", "all-hands at noon");
    assert.equal(sent.code, 0, sent.stderr);
    const id = Number(/^sent #(\d+) to every agent \(a broadcast\)\n$/.exec(sent.stdout)?.[1]);
    assert.ok(id > 0, sent.stdout);
    await reply("manager", "pong: all-hands at noon");
    await reply("alice", "pong: all-hands at noon");
    const acked = await stored(id, "the broadcast acked by both", (m) =>
      m.receipts.every((r) => r.state === "acked"),
    );
    assert.equal(acked.to, "*");
    assert.deepEqual(acked.receipts.map((r) => r.recipient).sort(), ["alice", "manager"]);
    // Each agent's wake prompt marked it a broadcast, once each, and never the operator's own.
    const woke = (await logged()).filter(
      (q) => q.text.includes("all-hands at noon") && q.text.includes(BROADCAST_NOTE),
    );
    const whose = woke.map((q) => /You are \*\*([a-z0-9-]+)\*\*/.exec(q.system)?.[1]);
    assert.deepEqual(whose.sort(), ["alice", "manager"]);
    const text = (await cli("history", "--limit", "100")).stdout;
    const lines = text.split("\n").filter((l) => l.startsWith(`#${id} `));
    assert.equal(lines.length, 1, "shown once");
    assert.match(lines[0] ?? "", /^#\d+ \S+ \S+ operator -> \*: broadcast, acked 2\/2$/);
    const hers = HistoryResponse.parse(await json("history", "--agent", "alice"));
    assert.ok(
      hers.messages.some((m) => m.id === id),
      "alice's history has the broadcast",
    );

    // Alice stopped: the next broadcast waits for her and reaches her when she starts. (Queued;
    // or leased, if the broker handed it to a long-poll her stopped harness left parked: her
    // next harness releases that lease at its start.)
    assert.equal((await cli("kill", "alice")).code, 0);
    const second = SendResponse.parse(await json("send", "*", "second call"));
    await reply("manager", "pong: second call");
    await stored(second.id, "the manager's ack of the second broadcast", (m) =>
      m.receipts.some((r) => r.recipient === "manager" && r.state === "acked"),
    );
    const waiting = (await cli("history", "--limit", "100")).stdout;
    assert.match(
      waiting,
      new RegExp(
        `^#${second.id} \\S+ \\S+ operator -> \\*: broadcast, acked 1/2; alice (queued|leased)$`,
        "m",
      ),
    );
    assert.equal((await cli("start", "alice")).code, 0);
    await reply("alice", "pong: second call");
    await stored(second.id, "the second broadcast acked by both", (m) =>
      m.receipts.every((r) => r.state === "acked"),
    );
  }, 240_000);
});
