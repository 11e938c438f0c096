import {
  BROADCAST,
  ErrorCode,
  HiveError,
  type OpenThread,
  type Question,
  rpcs,
  type StoredMessage,
  subjects,
} from "@hyperhive/shared";
import type { StandIns } from "./standins.js";

/**
 * Stand-ins for the operator's side of issue 7: c0re's questions and open threads, the broker's
 * history and send. They answer with the real schemas, and decide and word refusals as c0re does
 * (answer: only an open question, options among its options, several only when multi; closing a
 * closed one is a conflict, an unknown id not_found).
 */

/**
 * The time the samples are relative to: when the current test started (restarted
 * in a beforeEach), so "in 10m" still reads 10m however long the tests before it took.
 */
export let T0 = Date.now();

/** Puts {@link T0} at now; the samples are worked out from it when asked for. */
export function restartSampleClock(): void {
  T0 = Date.now();
}

/** #5 and #4 open to the operator, #3 alice's to bob, #2 answered, #1 cancelled. Newest first. */
export function sampleQuestions(): Question[] {
  const base = {
    multi: false,
    expires_at: null,
    state: "open",
    answer: null,
    answered_at: null,
    answered_by: null,
  } as const;
  return [
    {
      ...base,
      id: 5,
      asker: "manager",
      target: "operator",
      question: "Deploy the new build now?",
      options: ["yes", "no"],
      created_at: T0 - 120_000,
      expires_at: T0 + 600_000,
    },
    {
      ...base,
      id: 4,
      asker: "alice",
      target: "operator",
      question: "Which regions?\nAll of them is fine too.",
      options: ["eu", "us", "asia"],
      multi: true,
      created_at: T0 - 300_000,
    },
    {
      ...base,
      id: 3,
      asker: "alice",
      target: "bob",
      question: "Is the schema frozen?",
      options: [],
      created_at: T0 - 400_000,
    },
    {
      ...base,
      id: 2,
      asker: "manager",
      target: "operator",
      question: "Spawn a tester?",
      options: [],
      created_at: T0 - 7_200_000,
      state: "answered",
      answer: "not yet",
      answered_at: T0 - 3_600_000,
      answered_by: "operator",
    },
    {
      ...base,
      id: 1,
      asker: "alice",
      target: "operator",
      question: "Coffee?",
      options: [],
      created_at: T0 - 90_000_000,
      state: "cancelled",
      answer: "[cancelled]",
      answered_at: T0 - 86_400_000,
      answered_by: "alice",
    },
  ];
}

/**
 * Open threads as c0re gives them: alice's (she waits on the operator and on bob, she owes bob),
 * the manager's (hive-wide: its approval, its question, and alice's to bob, which it has no part
 * in), and the hive's (no viewer: every role null).
 */
export function sampleThreads(agent: string | undefined): OpenThread[] {
  const q = (id: number, asker: string, target: string, summary: string, age: number) => ({
    kind: "question" as const,
    id,
    summary,
    asker,
    target,
    created_at: T0 - age * 1000,
    expires_at: null,
    age_seconds: age,
  });
  const approval: OpenThread = {
    kind: "approval",
    id: 7,
    summary: "spawn carol",
    submitter: "manager",
    counterparty: "operator",
    created_at: T0 - 180_000,
    age_seconds: 180,
  };
  const deploy = { ...q(5, "manager", "operator", "Deploy the new build now?", 120) };
  const schema = q(3, "alice", "bob", "Is the schema frozen?", 400);
  const expiring = { expires_at: T0 + 600_000 };
  if (agent === "alice") {
    return [
      { ...schema, role: "asker", counterparty: "bob" },
      {
        ...q(4, "alice", "operator", "Which regions?", 300),
        role: "asker",
        counterparty: "operator",
      },
      {
        ...q(6, "bob", "alice", "Review my PR?", 60),
        ...expiring,
        role: "target",
        counterparty: "bob",
      },
    ];
  }
  if (agent === "manager") {
    return [
      { ...schema, role: null, counterparty: "bob" },
      approval,
      { ...deploy, ...expiring, role: "asker", counterparty: "operator" },
    ];
  }
  if (agent === "bob" || agent === "carol") return [];
  if (agent !== undefined) throw new HiveError(ErrorCode.NotFound, `no agent named ${agent}`);
  return [
    { ...schema, role: null, counterparty: "bob" },
    approval,
    { ...deploy, ...expiring, role: null, counterparty: "operator" },
  ];
}

/** Stored messages, newest first: a broadcast half acked, a reply, a redelivered one, a queued one. */
export function sampleHistory(): StoredMessage[] {
  const at = Date.UTC(2026, 10, 22, 10, 0, 0);
  const msg = { in_reply_to: null, reply_to: null, acked_at: null } as const;
  return [
    {
      ...msg,
      id: 14,
      from: "operator",
      to: BROADCAST,
      body: "standup in 5\nbring notes",
      sent_at: at + 40_000,
      receipts: [
        { recipient: "manager", state: "acked", deliveries: 1, acked_at: at + 41_000 },
        { recipient: "alice", state: "leased", deliveries: 2, acked_at: null },
        { recipient: "bob", state: "queued", deliveries: 0, acked_at: null },
      ],
    },
    {
      ...msg,
      id: 13,
      from: "manager",
      to: "operator",
      body: "pong: ping",
      sent_at: at + 30_000,
      in_reply_to: 12,
      reply_to: { id: 12, from: "operator", quote: "ping" },
      receipts: [{ recipient: "operator", state: "queued", deliveries: 0, acked_at: null }],
    },
    {
      ...msg,
      id: 12,
      from: "operator",
      to: "manager",
      body: "ping",
      sent_at: at + 20_000,
      acked_at: at + 25_000,
      receipts: [{ recipient: "manager", state: "acked", deliveries: 3, acked_at: at + 25_000 }],
    },
    {
      ...msg,
      id: 11,
      from: "alice",
      to: "bob",
      body: "see #9",
      sent_at: at,
      in_reply_to: 9,
      receipts: [{ recipient: "bob", state: "queued", deliveries: 1, acked_at: null }],
    },
  ];
}

/** What the mail stand-ins hold; a test changes it. */
export interface MailState {
  questions: Map<number, Question>;
}

export function freshMail(): MailState {
  return { questions: new Map(sampleQuestions().map((q) => [q.id, q])) };
}

/** Closes an open question the way c0re does; a closed one is a conflict, an unknown not_found. */
function close(s: MailState, id: number, done: Partial<Question>): Question {
  const q = s.questions.get(id);
  if (!q) throw new HiveError(ErrorCode.NotFound, `no question #${id}`);
  if (q.state !== "open")
    throw new HiveError(ErrorCode.Conflict, `question #${id} was ${q.state} already`);
  const closed: Question = { ...q, answered_at: Date.now(), ...done };
  s.questions.set(id, closed);
  return closed;
}

function answer(s: MailState, r: { id: number; text?: string; options?: string[] }): Question {
  const q = s.questions.get(r.id);
  if (q && q.target !== "operator") {
    throw new HiveError(
      ErrorCode.NotFound,
      `question #${r.id} was put to ${q.target}, not the operator (${q.asker} asked it)`,
    );
  }
  const chosen = r.options ?? [];
  const foreign = chosen.find((o) => !q?.options.includes(o));
  if (q && foreign !== undefined) {
    const known = q.options.map((k) => `"${k}"`).join(", ");
    throw new HiveError(
      ErrorCode.BadRequest,
      `"${foreign}" is not one of question #${r.id}'s options (${known})`,
    );
  }
  if (q && chosen.length > 1 && !q.multi) {
    throw new HiveError(ErrorCode.BadRequest, `question #${r.id} takes one option, not several`);
  }
  const text = [chosen.join(", "), r.text ?? ""].filter((p) => p !== "").join(" — ");
  return close(s, r.id, { state: "answered", answer: text, answered_by: "operator" });
}

/** Answers c0re's questions and threads and the broker's history and send. */
export function standInMail(stand: StandIns, s: MailState): void {
  stand.on(subjects.op.questions, rpcs.opQuestions, (r) => ({
    questions: [...s.questions.values()].filter(
      (q) => r.all || (q.state === "open" && q.target === "operator"),
    ),
  }));
  stand.on(subjects.op.answer, rpcs.opAnswer, (r) => ({ question: answer(s, r) }));
  stand.on(subjects.op.cancelQuestion, rpcs.opCancelQuestion, (r) => ({
    question: close(s, r.id, {
      state: "cancelled",
      answer: "[cancelled]",
      answered_by: "operator",
    }),
  }));
  stand.on(subjects.op.threads, rpcs.opThreads, (r) => ({ threads: sampleThreads(r.agent) }));
  stand.on(subjects.op.history, rpcs.opHistory, (r) => {
    const older = sampleHistory().filter((m) => r.before_id === undefined || m.id < r.before_id);
    const page = older.slice(0, r.limit ?? 50);
    const more = older.length > page.length;
    return { messages: page, next_before_id: more ? (page.at(-1)?.id ?? null) : null };
  });
  let next = 40;
  stand.on(subjects.op.send, rpcs.send, () => ({
    id: next++,
    duplicate: false,
    sent_at: Date.now(),
  }));
}
