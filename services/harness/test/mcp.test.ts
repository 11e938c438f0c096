import assert from "node:assert/strict";
import {
  type AgentRole,
  type Approval,
  type Clock,
  ErrorCode,
  HiveError,
  type OpenThread,
  type SocketMessage,
} from "@hyperhive/shared";
import { TestClock } from "@hyperhive/shared/testing";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, describe, it } from "vitest";
import type { SocketHandlers } from "../src/socket.js";
import { hyperhiveTools } from "../src/tools.js";
import { agentInfo, pendingFrom, questionFrom } from "./c0re-answers.js";
import { callTool, McpWiring } from "./mcp-wiring.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** A message as the harness's recv hands it to the tools: from bob, plain. */
function msg(over: Partial<SocketMessage>): SocketMessage {
  return {
    id: 1,
    from: "bob",
    body: "x",
    sent_at: 1,
    in_reply_to: null,
    reply_to: null,
    redelivered: false,
    broadcast: false,
    previous: [],
    ...over,
  };
}

/** The MCP server's clock in these tests (unix ms). */
const NOW = 1_800_000_000_000;
const MIN = 60_000;

/** A pending approval as c0re queues it. */
const pending = pendingFrom("manager");

describe("MCP server", () => {
  const wiring = new McpWiring();
  afterEach(() => wiring.close());
  afterAll(() => wiring.remove());

  const connected = (
    handlers: Partial<SocketHandlers>,
    role: AgentRole = "agent",
    clock: Clock = new TestClock(NOW),
  ) => wiring.connect(handlers, role, clock);
  const call = callTool;

  it("a sub-agent's server lists mail, whoami, questions, threads and reminders, and none of the manager's verbs", async () => {
    const { client } = await connected({});
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), [...hyperhiveTools("agent")].sort());
    assert.deepEqual(tools.map((x) => x.name).sort(), [
      "answer",
      "ask",
      "ask_operator",
      "cancel_ask",
      "cancel_reminder",
      "get_open_threads",
      "list_my_asks",
      "list_my_reminders",
      "recv",
      "recv_batch",
      "remind",
      "send",
      "whoami",
    ]);
    const send = tools.find((x) => x.name === "send")!;
    assert.deepEqual(send.inputSchema.required?.sort(), ["body", "to"]);
    assert.ok(send.inputSchema.properties && "in_reply_to" in send.inputSchema.properties);
    const kill = CallToolResultSchema.parse(
      await client.callTool({ name: "kill", arguments: { name: "alice" } }),
    );
    assert.equal(kill.isError, true);
  });

  it("the manager's server lists its verbs too, with their input schemas", async () => {
    const { client } = await connected({}, "manager");
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), [...hyperhiveTools("manager")].sort());
    const req = (name: string) => tools.find((x) => x.name === name)?.inputSchema.required;
    assert.deepEqual(req("request_spawn"), ["name"]);
    assert.deepEqual(req("kill"), ["name"]);
    assert.deepEqual(req("request_apply_commit")?.sort(), ["agent", "commit_ref"]);
    assert.equal(req("whoami"), undefined);
  });

  it("whoami shows what the harness says", async () => {
    const me = {
      name: "boss",
      role: "manager",
      model: "sonnet",
      version: "0.1.0",
      rev: "abc",
      started_at: 5,
      state_dir: "/s",
      shared_dir: "/hive/shared",
    } as const;
    const { client, harness } = await connected({ whoami: async () => me });
    const r = await call(client, "whoami", {});
    assert.equal(r.isError, false);
    assert.deepEqual(JSON.parse(r.text), me);
    assert.deepEqual(harness.seen, [{ cmd: "whoami", params: {} }]);
  });

  it("the manager's verbs go to the harness socket and read back in plain words", async () => {
    const spawn: Approval = {
      ...pending,
      id: 3,
      kind: "spawn",
      summary: "spawn alice",
      details: { name: "alice" },
    };
    const apply: Approval = {
      ...pending,
      id: 4,
      kind: "apply_commit",
      summary: "config of alice: model haiku -> sonnet",
      details: { agent: "alice", commit: SHA, base: SHA, diff: "-a\n+b\n" },
    };
    const { client, harness } = await connected(
      {
        request_spawn: async () => ({ approval: spawn }),
        kill: async ({ name }) => ({ agent: agentInfo(name, false) }),
        start: async ({ name }) => ({ agent: agentInfo(name, true) }),
        restart: async ({ name }) => ({ agent: agentInfo(name, true) }),
        update: async ({ name }) => ({ agent: agentInfo(name, true) }),
        request_apply_commit: async () => ({ approval: apply }),
      },
      "manager",
    );
    const texts = [
      await call(client, "request_spawn", { name: "alice" }),
      await call(client, "kill", { name: "alice" }),
      await call(client, "start", { name: "alice" }),
      await call(client, "restart", { name: "alice" }),
      await call(client, "update", { name: "alice" }),
      await call(client, "request_apply_commit", { agent: "alice", commit_ref: "HEAD" }),
    ];
    assert.ok(texts.every((x) => !x.isError));
    assert.deepEqual(
      texts.map((x) => x.text),
      [
        "approval #3 queued: spawn alice (pending the operator's decision; the outcome will arrive in your inbox)",
        "alice stopped: not running, state offline",
        "alice started: running, state idle, model haiku",
        "alice restarted: running, state idle, model haiku",
        "alice updated with its current config and restarted: running, state idle, model haiku",
        "approval #4 queued: config of alice (commit 0123456): config of alice: model haiku -> sonnet " +
          "(pending the operator's decision; the outcome will arrive in your inbox)",
      ],
    );
    assert.deepEqual(harness.seen, [
      { cmd: "request_spawn", params: { name: "alice" } },
      { cmd: "kill", params: { name: "alice" } },
      { cmd: "start", params: { name: "alice" } },
      { cmd: "restart", params: { name: "alice" } },
      { cmd: "update", params: { name: "alice" } },
      { cmd: "request_apply_commit", params: { agent: "alice", commit_ref: "HEAD" } },
    ]);
  });

  it("c0re's refusals reach claude as tool errors with their code; bad arguments never leave", async () => {
    const { client, harness } = await connected(
      {
        request_spawn: async () => {
          throw new HiveError(ErrorCode.Conflict, "alice is taken");
        },
        kill: async () => {
          throw new HiveError(ErrorCode.Forbidden, "the manager's own lifecycle is the operator's");
        },
      },
      "manager",
    );
    const spawn = await call(client, "request_spawn", { name: "alice" });
    assert.deepEqual(spawn, { text: "error (conflict): alice is taken", isError: true });
    const kill = await call(client, "kill", { name: "manager" });
    assert.equal(kill.isError, true);
    assert.match(kill.text, /^error \(forbidden\): the manager's own lifecycle/);
    const bad = await call(client, "request_apply_commit", { agent: "alice", commit_ref: "-x" });
    assert.equal(bad.isError, true);
    assert.equal(harness.seen.length, 2, "the bad ref was refused before the socket");
  });

  it("send and recv go to the harness socket as commands", async () => {
    const { client, harness } = await connected({
      send: async () => ({ id: 12, duplicate: false, sent_at: 1 }),
      recv: async () => ({
        message: msg({ id: 13, body: "ping" }),
        pending: 1,
      }),
    });
    const sent = await call(client, "send", { to: "operator", body: "hi" });
    assert.equal(sent.isError, false);
    assert.equal(sent.text, "sent to operator (message 12)");
    const all = await call(client, "send", { to: "*", body: "heads up", in_reply_to: 4 });
    assert.equal(all.text, "broadcast to every other agent (message 12)");
    const got = await call(client, "recv", { wait_seconds: 500 });
    assert.equal(
      got.text,
      "from: bob\n\nping\n\n(message #13)\n(+1 more queued; consider draining before acting)",
    );
    assert.deepEqual(harness.seen, [
      { cmd: "send", params: { to: "operator", body: "hi" } },
      { cmd: "send", params: { to: "*", body: "heads up", in_reply_to: 4 } },
      { cmd: "recv", params: { wait_seconds: 180 } },
    ]);
  });

  it("the broker's refusal of a large body reaches claude as a tool error", async () => {
    const { client } = await connected({
      send: async () => {
        throw new HiveError(
          ErrorCode.BodyTooLarge,
          "body is 5000 bytes, over the 4096-byte limit: write it to a file in your state dir and send the path",
        );
      },
    });
    const r = await call(client, "send", { to: "operator", body: "x".repeat(5000) });
    assert.equal(r.isError, true);
    assert.match(r.text, /body_too_large.*write it to a file/);
  });

  it("arguments the socket would refuse come back as tool errors, and nothing is sent", async () => {
    const { client, harness } = await connected({
      send: async () => ({ id: 1, duplicate: false, sent_at: 1 }),
    });
    const badName = await call(client, "send", { to: "Not A Name!", body: "hi" });
    assert.equal(badName.isError, true);
    assert.match(badName.text, /to/);
    const blank = await call(client, "send", { to: "bob", body: "   " });
    assert.equal(blank.isError, true);
    assert.match(blank.text, /empty or only whitespace/);
    assert.deepEqual(harness.seen, []);
  });

  it("an empty inbox says so", async () => {
    const { client } = await connected({ recv: async () => ({ message: null, pending: 0 }) });
    assert.equal((await call(client, "recv", {})).text, "(no messages)");
  });
  it("the question tools go to the socket and read back in plain words, ages from the clock", async () => {
    const toOperator = questionFrom(
      {
        id: 12,
        target: "operator",
        question: "deploy now?",
        options: ["yes", "no"],
        multi: true,
        expires_at: NOW + 10 * MIN,
      },
      NOW,
    );
    const toBob = questionFrom({ id: 13, target: "bob", question: "is the build green?" }, NOW);
    const fromBob = questionFrom({ id: 14, asker: "bob", target: "alice", question: "lunch?" });
    const { client, harness } = await connected({
      ask_operator: async () => ({ question: toOperator }),
      ask: async () => ({ question: toBob }),
      answer: async () => ({
        question: { ...fromBob, state: "answered", answer: "yes", answered_by: "alice" },
      }),
      list_my_asks: async ({ all }) => ({
        questions: all
          ? [
              { ...toBob, created_at: NOW - 5 * MIN },
              {
                ...toOperator,
                created_at: NOW - 3 * 3600_000,
                state: "expired",
                answer: "[expired]",
              },
              questionFrom(
                {
                  id: 11,
                  target: "carol",
                  question: "coffee?",
                  state: "answered",
                  answer: "yes please",
                },
                NOW - 2 * 86_400_000 - 5,
              ),
            ]
          : [],
      }),
      cancel_ask: async () => ({
        question: { ...toBob, state: "cancelled", answer: "[cancelled]" },
      }),
    });
    const texts = [
      await call(client, "ask_operator", {
        question: "deploy now?",
        options: ["yes", "no"],
        multi: true,
        ttl_seconds: 600,
      }),
      await call(client, "ask", { to: "bob", question: "is the build green?" }),
      await call(client, "answer", { id: 14, text: "yes" }),
      await call(client, "list_my_asks", {}),
      await call(client, "list_my_asks", { all: true }),
      await call(client, "cancel_ask", { id: 13 }),
    ];
    assert.ok(
      texts.every((x) => !x.isError),
      JSON.stringify(texts),
    );
    const later =
      "The answer will arrive later in your inbox, quoting the question; do not wait for it here " +
      "(cancel_ask if it stops mattering).";
    assert.deepEqual(
      texts.map((x) => x.text),
      [
        'question #12 asked of the operator: "deploy now?" (options (several may be chosen): ' +
          `"yes", "no"; expires in 10 min). ${later}`,
        `question #13 asked of bob: "is the build green?". ${later}`,
        'answered question #14 from bob: "lunch?"; your answer is on its way to bob\'s inbox.',
        "(no open questions)",
        "3 questions of yours:\n" +
          '#13 to bob, asked 5 min ago: "is the build green?" — open\n' +
          '#12 to the operator, asked 3 h ago: "deploy now?" — expired\n' +
          '#11 to carol, asked 2 d ago: "coffee?" — answered: yes please',
        'question #13 to bob cancelled: "is the build green?" (no answer will come).',
      ],
    );
    assert.deepEqual(harness.seen, [
      {
        cmd: "ask_operator",
        params: { question: "deploy now?", options: ["yes", "no"], multi: true, ttl_seconds: 600 },
      },
      { cmd: "ask", params: { to: "bob", question: "is the build green?" } },
      { cmd: "answer", params: { question_id: 14, text: "yes" } },
      { cmd: "list_my_asks", params: {} },
      { cmd: "list_my_asks", params: { all: true } },
      { cmd: "cancel_ask", params: { question_id: 13 } },
    ]);
  });

  it("get_open_threads reads each kind and role, oldest first, with ages from the clock", async () => {
    const threads: OpenThread[] = [
      {
        kind: "approval",
        id: 3,
        summary: "spawn carol",
        submitter: "manager",
        counterparty: "operator",
        created_at: NOW - 2 * 3600_000,
        age_seconds: 7200,
      },
      {
        kind: "question",
        id: 12,
        summary: "deploy now?",
        asker: "alice",
        target: "operator",
        role: "asker",
        counterparty: "operator",
        created_at: NOW - 5 * MIN,
        expires_at: NOW + 10 * MIN,
        age_seconds: 300,
      },
      {
        kind: "question",
        id: 14,
        summary: "lunch?",
        asker: "bob",
        target: "alice",
        role: "target",
        counterparty: "bob",
        created_at: NOW - 40_000,
        expires_at: null,
        age_seconds: 40,
      },
      {
        kind: "question",
        id: 15,
        summary: "which branch?",
        asker: "bob",
        target: "carol",
        role: null,
        counterparty: "carol",
        created_at: NOW - 3 * 86_400_000,
        expires_at: null,
        age_seconds: 3 * 86_400,
      },
    ];
    let answer: OpenThread[] = [];
    const { client, harness } = await connected({
      get_open_threads: async () => ({ threads: answer }),
    });
    assert.equal((await call(client, "get_open_threads", {})).text, "(no open threads)");
    answer = threads;
    const r = await call(client, "get_open_threads", {});
    assert.equal(r.isError, false);
    assert.equal(
      r.text,
      "4 open threads:\n" +
        "approval #3 by manager: spawn carol — waiting on the operator for 2 h\n" +
        'question #12 you asked the operator: "deploy now?" — waiting on them for 5 min, expires in 10 min\n' +
        'question #14 bob asked you: "lunch?" — you owe the answer (answer(14, "…")), asked 40 s ago\n' +
        'question #15 bob asked carol: "which branch?" — open for 3 d',
    );
    assert.deepEqual(harness.seen, [
      { cmd: "get_open_threads", params: {} },
      { cmd: "get_open_threads", params: {} },
    ]);
  });

  it("c0re's refusals of questions come back as tool errors; bad arguments never leave", async () => {
    const { client, harness } = await connected({
      answer: async () => {
        throw new HiveError(ErrorCode.Conflict, "question #14 was expired already");
      },
      cancel_ask: async () => {
        throw new HiveError(ErrorCode.NotFound, "no question #99 of yours");
      },
    });
    assert.deepEqual(await call(client, "answer", { id: 14, text: "late" }), {
      text: "error (conflict): question #14 was expired already",
      isError: true,
    });
    assert.deepEqual(await call(client, "cancel_ask", { id: 99 }), {
      text: "error (not_found): no question #99 of yours",
      isError: true,
    });
    const bad: [string, Record<string, unknown>][] = [
      ["ask_operator", { question: "   " }],
      ["ask_operator", { question: "x", ttl_seconds: 0 }],
      ["ask", { to: "operator", question: "x" }],
      ["ask", { to: "Bob!", question: "x" }],
      ["answer", { id: 0, text: "x" }],
      ["answer", { id: 1, text: " " }],
      ["cancel_ask", { id: -1 }],
      ["list_my_asks", { all: "yes" }],
      ["recv_batch", { max: 0 }],
      ["recv_batch", { max: 51 }],
    ];
    for (const [name, args] of bad) {
      const r = await call(client, name, args);
      assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}: ${r.text}`);
    }
    assert.deepEqual(
      harness.seen.map((x) => x.cmd),
      ["answer", "cancel_ask"],
      "nothing malformed reached the socket",
    );
  });

  it("recv_batch goes to the socket and reads each message, then what is still queued", async () => {
    const { client, harness } = await connected({
      recv_batch: async ({ max }) =>
        max === 1
          ? { messages: [], pending: 0 }
          : {
              messages: [
                msg({ id: 7, body: "one" }),
                msg({
                  id: 8,
                  from: "carol",
                  body: "two",
                  in_reply_to: 7,
                  reply_to: { id: 7, from: "bob", quote: "one" },
                  broadcast: true,
                }),
              ],
              pending: 3,
            },
    });
    const r = await call(client, "recv_batch", { max: 2, wait_seconds: 999 });
    assert.equal(
      r.text,
      "2 messages:\n" +
        "--- 1/2\nfrom: bob\n\none\n\n(message #7)\n" +
        '--- 2/2\nfrom: carol\n\ntwo\n\n(message #8)\n(in reply to #7 from bob: "one")\n' +
        "(this was a broadcast and may not need any action from you)\n" +
        "---\n(+3 more queued; consider draining before acting)",
    );
    assert.equal((await call(client, "recv_batch", { max: 1 })).text, "(no messages)");
    assert.deepEqual(harness.seen, [
      { cmd: "recv_batch", params: { max: 2, wait_seconds: 180 } },
      { cmd: "recv_batch", params: { max: 1 } },
    ]);
  });
});
