import assert from "node:assert/strict";
import {
  ErrorCode,
  HiveError,
  type NatsConnection,
  type OpenThread,
  type Question,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { ActionLog } from "../src/turn-memory.js";
import { Bench, toolCall } from "./bench.js";
import { questionFrom } from "./c0re-answers.js";

const TURN_TIMEOUT_MS = 90_000;
const MIN = 60_000;

/** What the stand-in c0re was asked: the subject (so the caller) and the payload. */
interface Asked {
  subject: string;
  payload: unknown;
}

/** The open threads the stand-in c0re answers each caller with (the manager's: hive-wide). */
type ThreadsOf = (caller: string) => OpenThread[];

/**
 * Stands in for c0re's questions on `hive.agent.<caller>.*`: records every request and answers
 * as c0re would, with times around the real clock (the MCP server, claude's child, reads ages on
 * the system clock).
 */
function standInC0re(
  nc: NatsConnection,
  caller: string,
  asked: Asked[],
  threadsOf: ThreadsOf,
): Service[] {
  const a = subjects.agent;
  const record = (subject: string, payload: unknown): void => {
    asked.push({ subject, payload });
  };
  let next = 12;
  return [
    serve(nc, a.ask(caller), rpcs.ask, (req, m) => {
      record(m.subject, req);
      const now = Date.now();
      const q: Question = questionFrom(
        {
          id: next++,
          asker: caller,
          target: req.to,
          question: req.question,
          options: req.options ?? [],
          multi: req.multi ?? false,
          // Half a minute of slack: the text says "10 min" however slow the turn is.
          expires_at: req.ttl_seconds === undefined ? null : now + req.ttl_seconds * 1000 + 30_000,
        },
        now,
      );
      return { question: q };
    }),
    serve(nc, a.answer(caller), rpcs.answer, (req, m) => {
      record(m.subject, req);
      return {
        question: questionFrom({
          id: req.id,
          asker: "bob",
          target: caller,
          question: "lunch?",
          state: "answered",
          answer: req.text,
          answered_by: caller,
        }),
      };
    }),
    serve(nc, a.asks(caller), rpcs.myAsks, (req, m) => {
      record(m.subject, req);
      const at = Date.now() - 5 * MIN - 10_000;
      return {
        questions: [
          questionFrom({ id: 9, asker: caller, target: "operator", question: "ok?" }, at),
        ],
      };
    }),
    serve(nc, a.cancelAsk(caller), rpcs.cancelAsk, (req, m) => {
      record(m.subject, req);
      if (req.id !== 13) throw new HiveError(ErrorCode.NotFound, `no question #${req.id} of yours`);
      return {
        question: questionFrom({
          id: 13,
          asker: caller,
          target: "bob",
          question: "green?",
          state: "cancelled",
          answer: "[cancelled]",
        }),
      };
    }),
    serve(nc, a.threads(caller), rpcs.threads, (req, m) => {
      record(m.subject, req);
      return { threads: threadsOf(caller) };
    }),
  ];
}

/** A question thread opened `minutes` ago (plus slack, so the text's minutes are exact). */
function thread(
  over: Pick<Extract<OpenThread, { kind: "question" }>, "id" | "asker" | "target" | "role">,
  minutes: number,
): OpenThread {
  const created = Date.now() - minutes * MIN - 10_000;
  return {
    kind: "question",
    summary: `thread ${over.id}`,
    counterparty: over.role === "target" ? over.asker : over.target,
    created_at: created,
    expires_at: null,
    age_seconds: Math.floor((Date.now() - created) / 1000),
    ...over,
  };
}

/**
 * The question tools through the real claude and its real MCP server, bridged by an in-process
 * harness to NATS, where the test stands in for c0re on each caller's subjects.
 */
describe("questions and open threads through claude", () => {
  const bench = new Bench(["alice", "boss"]);
  const asked: Asked[] = [];
  const threadsOf: ThreadsOf = (caller) =>
    caller === "boss"
      ? // The manager's list is hive-wide: threads it is no party to, role null.
        [
          thread({ id: 30, asker: "alice", target: "operator", role: null }, 7),
          thread({ id: 31, asker: "alice", target: "boss", role: "target" }, 2),
        ]
      : [thread({ id: 30, asker: "alice", target: "operator", role: "asker" }, 7)];

  beforeAll(async () => {
    await bench.start();
    standInC0re(bench.nc, "alice", asked, threadsOf);
    standInC0re(bench.nc, "boss", asked, threadsOf);
    await bench.nc.flush();
  });
  afterEach(async () => {
    await bench.stopHarnesses();
    asked.length = 0;
  });
  afterAll(() => bench.stop());

  const call = toolCall;
  const turn = (to: string, body: string) => bench.toolTurn(to, body);

  it(
    "every question tool reaches c0re on hive.agent.<me>.* with its payload and reads back in words",
    async () => {
      await bench.ctl.setScript([
        {
          match: "open some threads",
          reply: [
            ...call("ask_operator", {
              question: "deploy now?",
              options: ["yes", "no"],
              ttl_seconds: 600,
            }),
            ...call("ask", { to: "bob", question: "is the build green?" }),
            ...call("answer", { id: 14, text: "after lunch" }),
            ...call("list_my_asks", { all: true }),
            ...call("cancel_ask", { id: 13 }),
            ...call("cancel_ask", { id: 99 }),
            ...call("answer", { id: 0, text: "never sent" }),
            ...call("get_open_threads"),
            { text: "done" },
          ],
        },
      ]);
      const h = await bench.harness("alice");
      const { results, id, sentAt } = await turn("alice", "open some threads");
      assert.equal(results.length, 8, results.join("\n---\n"));
      const later =
        "The answer will arrive later in your inbox, quoting the question; do not wait for it " +
        "here (cancel_ask if it stops mattering).";
      assert.deepEqual(results.slice(0, 6), [
        `question #12 asked of the operator: "deploy now?" (options: "yes", "no"; expires in 10 min). ${later}`,
        `question #13 asked of bob: "is the build green?". ${later}`,
        'answered question #14 from bob: "lunch?"; your answer is on its way to bob\'s inbox.',
        '1 question of yours:\n#9 to the operator, asked 5 min ago: "ok?" — open',
        'question #13 to bob cancelled: "green?" (no answer will come).',
        "error (not_found): no question #99 of yours",
      ]);
      // A bad id is refused by the tool's own schema: nothing is sent.
      assert.equal(
        results[6],
        "MCP error -32602: Input validation error: Invalid arguments for tool answer: " +
          "Too small: expected number to be >0 at id",
      );
      assert.equal(
        results[7],
        '1 open thread:\nquestion #30 you asked the operator: "thread 30" — waiting on them for 7 min',
      );
      const a = subjects.agent;
      assert.deepEqual(asked, [
        {
          subject: a.ask("alice"),
          payload: {
            to: "operator",
            question: "deploy now?",
            options: ["yes", "no"],
            ttl_seconds: 600,
          },
        },
        { subject: a.ask("alice"), payload: { to: "bob", question: "is the build green?" } },
        { subject: a.answer("alice"), payload: { id: 14, text: "after lunch" } },
        { subject: a.asks("alice"), payload: { all: true } },
        { subject: a.cancelAsk("alice"), payload: { id: 13 } },
        { subject: a.cancelAsk("alice"), payload: { id: 99 } },
        { subject: a.threads("alice"), payload: {} },
      ]);
      // The two questions the turn asked are remembered against its message, on disk.
      assert.deepEqual(
        new ActionLog({ stateDir: h.cfg.stateDir, log: bench.log }).previous({
          id,
          sent_at: sentAt,
        }),
        [
          { kind: "asked", id: 12, to: "operator", quote: "deploy now?" },
          { kind: "asked", id: 13, to: "bob", quote: "is the build green?" },
        ],
      );
    },
    TURN_TIMEOUT_MS,
  );

  it(
    "get_open_threads is forwarded as asked: the manager gets c0re's hive-wide list, a sub-agent its own",
    async () => {
      await bench.ctl.setScript([
        { match: "what is open", reply: [...call("get_open_threads"), { text: "done" }] },
      ]);
      await bench.harness("boss", { env: { HIVE_ROLE: "manager" } });
      await bench.harness("alice");
      const boss = await turn("boss", "what is open");
      const alice = await turn("alice", "what is open");
      assert.deepEqual(boss.results, [
        "2 open threads:\n" +
          'question #30 alice asked the operator: "thread 30" — open for 7 min\n' +
          'question #31 alice asked you: "thread 31" — you owe the answer (answer(31, "…")), asked 2 min ago',
      ]);
      assert.deepEqual(alice.results, [
        '1 open thread:\nquestion #30 you asked the operator: "thread 30" — waiting on them for 7 min',
      ]);
      assert.deepEqual(asked, [
        { subject: subjects.agent.threads("boss"), payload: {} },
        { subject: subjects.agent.threads("alice"), payload: {} },
      ]);
    },
    TURN_TIMEOUT_MS,
  );
});
