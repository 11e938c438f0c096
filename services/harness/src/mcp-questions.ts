import {
  type Clock,
  MyAsksRequest,
  OPERATOR,
  type OpenThread,
  type Question,
  SocketAnswerParams,
  SocketAskOperatorParams,
  SocketAskParams,
  SocketCancelAskParams,
} from "@hyperhive/shared";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { answer, span } from "./mcp-text.js";
import type { SocketCaller } from "./socket-client.js";

function whom(target: string): string {
  return target === OPERATOR ? "the operator" : target;
}

function expiry(expiresAt: number | null, now: number): string | undefined {
  return expiresAt === null ? undefined : `expires in ${span(expiresAt - now)}`;
}

/** The parts in brackets after a question: its options, and when it expires. */
function questionTerms(q: Question, now: number): string {
  const terms = [
    q.options.length === 0
      ? undefined
      : `options${q.multi ? " (several may be chosen)" : ""}: ${q.options.map((o) => `"${o}"`).join(", ")}`,
    q.state === "open" ? expiry(q.expires_at, now) : undefined,
  ].filter((t): t is string => t !== undefined);
  return terms.length === 0 ? "" : ` (${terms.join("; ")})`;
}

/** How a question just asked reads: its id, and that the answer comes by mail. */
export function formatAsked(q: Question, now: number): string {
  return (
    `question #${q.id} asked of ${whom(q.target)}: "${q.question}"${questionTerms(q, now)}. ` +
    "The answer will arrive later in your inbox, quoting the question; do not wait for it here " +
    "(cancel_ask if it stops mattering)."
  );
}

/** How a question the agent just answered reads. */
export function formatAnswered(q: Question): string {
  return `answered question #${q.id} from ${q.asker}: "${q.question}"; your answer is on its way to ${q.asker}'s inbox.`;
}

/** How a question the agent just withdrew reads. */
export function formatCancelled(q: Question): string {
  return `question #${q.id} to ${whom(q.target)} cancelled: "${q.question}" (no answer will come).`;
}

/** One of the agent's own questions in `list_my_asks`: to whom, how long ago, where it stands. */
function askLine(q: Question, now: number): string {
  const state =
    q.state === "open"
      ? `open${q.expires_at === null ? "" : `, ${expiry(q.expires_at, now)}`}`
      : // c0re's own answers are the state in brackets: `[expired]` says nothing more.
        `${q.state}${q.answer === null || q.answer === `[${q.state}]` ? "" : `: ${q.answer}`}`;
  return `#${q.id} to ${whom(q.target)}, asked ${span(now - q.created_at)} ago: "${q.question}" — ${state}`;
}

/** What `list_my_asks` reads as: one line per question, newest first. */
export function formatAsks(qs: readonly Question[], all: boolean, now: number): string {
  if (qs.length === 0) return all ? "(you have asked no questions)" : "(no open questions)";
  const head = `${qs.length} ${all ? "" : "open "}question${qs.length === 1 ? "" : "s"} of yours:`;
  return [head, ...qs.map((q) => askLine(q, now))].join("\n");
}

/** One open thread: what it is, who waits on whom, for how long. */
function threadLine(t: OpenThread, now: number): string {
  const age = span(now - t.created_at);
  if (t.kind === "approval") {
    return `approval #${t.id} by ${t.submitter}: ${t.summary} — waiting on the operator for ${age}`;
  }
  const expires = expiry(t.expires_at, now);
  const tail = `${age}${expires === undefined ? "" : `, ${expires}`}`;
  const quoted = `"${t.summary}"`;
  switch (t.role) {
    case "asker":
      return `question #${t.id} you asked ${whom(t.target)}: ${quoted} — waiting on them for ${tail}`;
    case "target":
      return (
        `question #${t.id} ${t.asker} asked you: ${quoted} — you owe the answer ` +
        `(answer(${t.id}, "…")), asked ${tail} ago`
      );
    default:
      return `question #${t.id} ${t.asker} asked ${whom(t.target)}: ${quoted} — open for ${tail}`;
  }
}

/** What `get_open_threads` reads as: one line per thread, oldest first. */
export function formatThreads(threads: readonly OpenThread[], now: number): string {
  if (threads.length === 0) return "(no open threads)";
  const head = `${threads.length} open thread${threads.length === 1 ? "" : "s"}:`;
  return [head, ...threads.map((t) => threadLine(t, now))].join("\n");
}

/** Said of every question tool: what comes back at once and what comes later. */
const BY_MAIL =
  "Non-blocking: returns the question's id at once. The answer arrives later in your inbox as " +
  "a message quoting the question (its id and text) and the answer; `[expired]` when ttl_seconds " +
  "ran out first, `[cancelled]` when the operator cancelled it.";

/**
 * Questions and open threads, for every agent: each tool one socket command, which the harness
 * bridges to c0re (`hive.agent.<me>.{ask,answer,asks,cancel_ask,threads}`). `clock` dates the
 * ages and deadlines they read back.
 */
export function registerQuestionTools(server: McpServer, call: SocketCaller, clock: Clock): void {
  const ask = SocketAskOperatorParams.shape;
  server.registerTool(
    "ask_operator",
    {
      description:
        "Ask the operator a question; it shows on their dashboard (options with a free-text " +
        `fallback; checkboxes when multi) and in \`hive questions\`. ${BY_MAIL} Use it for ` +
        "decisions that are the operator's; carry on with other work meanwhile.",
      inputSchema: {
        question: ask.question.describe("The question, self-contained (up to 2000 characters)."),
        options: ask.options.describe("Optional: answers to choose from (up to 20)."),
        multi: ask.multi.describe("Optional: several options may be chosen (needs options)."),
        ttl_seconds: ask.ttl_seconds.describe(
          "Optional: after this many seconds it is answered `[expired]` (at most a week).",
        ),
      },
    },
    (params) =>
      answer(call("ask_operator", params).then((r) => formatAsked(r.question, clock.now()))),
  );
  const peer = SocketAskParams.shape;
  server.registerTool(
    "ask",
    {
      description:
        "Ask another agent a question; it finds the question in its inbox and answers with " +
        `answer(id, text). ${BY_MAIL}`,
      inputSchema: {
        to: peer.to.describe("The agent to ask (not `operator`: use ask_operator)."),
        question: peer.question.describe("The question, self-contained (up to 2000 characters)."),
        options: peer.options.describe("Optional: answers to suggest (up to 20)."),
        ttl_seconds: peer.ttl_seconds.describe(
          "Optional: after this many seconds it is answered `[expired]` (at most a week).",
        ),
      },
    },
    (params) => answer(call("ask", params).then((r) => formatAsked(r.question, clock.now()))),
  );
  server.registerTool(
    "answer",
    {
      description:
        "Answer a question another agent put to you (it came in your inbox as " +
        '`question #N from <agent>: "…"`). The answer goes to the asker\'s inbox, quoting ' +
        "the question. A question already answered, expired or cancelled is refused.",
      inputSchema: {
        id: SocketAnswerParams.shape.question_id.describe(
          "The question's id (the N of `question #N`).",
        ),
        text: SocketAnswerParams.shape.text.describe("Your answer (up to 4000 characters)."),
      },
    },
    ({ id, text }) =>
      answer(call("answer", { question_id: id, text }).then((r) => formatAnswered(r.question))),
  );
  server.registerTool(
    "list_my_asks",
    {
      description:
        "Your own questions (ask_operator, ask), newest first: to whom, when, and where each " +
        "stands. Open ones only unless `all`.",
      inputSchema: {
        all: MyAsksRequest.shape.all.describe(
          "Optional: closed ones too, with their answers (default false).",
        ),
      },
    },
    (params) =>
      answer(
        call("list_my_asks", params).then((r) =>
          formatAsks(r.questions, params.all === true, clock.now()),
        ),
      ),
  );
  server.registerTool(
    "cancel_ask",
    {
      description:
        "Withdraw one of your own open questions (when it no longer matters). No answer will " +
        "come for it; nobody else's questions can be cancelled.",
      inputSchema: {
        id: SocketCancelAskParams.shape.question_id.describe(
          "The question's id, from ask/list_my_asks.",
        ),
      },
    },
    ({ id }) =>
      answer(call("cancel_ask", { question_id: id }).then((r) => formatCancelled(r.question))),
  );
  server.registerTool(
    "get_open_threads",
    {
      description:
        "What is still pending against you, oldest first: approvals you submitted (waiting on " +
        "the operator), questions you asked (waiting on someone) and questions put to you " +
        "(you owe the answer), each with its age. The manager's list is hive-wide. Check it " +
        "instead of rebuilding that from your inbox history.",
      inputSchema: {},
    },
    () => answer(call("get_open_threads", {}).then((r) => formatThreads(r.threads, clock.now()))),
  );
}
