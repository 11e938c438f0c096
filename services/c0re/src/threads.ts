import {
  type AgentName,
  type Approval,
  type Clock,
  ErrorCode,
  HiveError,
  type OpenThread,
  type Question,
} from "@hyperhive/shared";
import type { ApprovalsStore } from "./approvals-store.js";
import type { QuestionsStore } from "./questions-store.js";
import type { Registry } from "./registry.js";

/** A question's summary in a thread: its text cut to this many characters. */
const SUMMARY_CHARS = 120;

export interface OpenThreadsOptions {
  approvals: ApprovalsStore;
  questions: QuestionsStore;
  registry: Registry;
  clock: Clock;
}

/**
 * What is still pending against an agent, from the approvals queue and the questions, read
 * fresh on every call (it is asked for rarely): approvals it submitted (waiting on the
 * operator), questions it asked (role `asker`) and questions it owes (role `target`). The
 * manager's list is hive-wide, with role null where it is no party. Oldest first: what has
 * waited longest leads.
 */
export class OpenThreads {
  readonly #o: OpenThreadsOptions;

  constructor(o: OpenThreadsOptions) {
    this.#o = o;
  }

  /** What `agent`'s `get_open_threads` answers: the manager's is hive-wide. */
  of(agent: AgentName): OpenThread[] {
    const row = this.#o.registry.get(agent);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${agent}`);
    if (row.role === "manager") return this.#build(agent, true);
    return this.#build(agent, false);
  }

  /** Every open thread of the hive, with no viewer (role null). */
  all(): OpenThread[] {
    return this.#build(null, true);
  }

  #build(viewer: AgentName | null, hiveWide: boolean): OpenThread[] {
    const { approvals, questions } = this.#o;
    const now = this.#o.clock.now();
    const pending = approvals
      .list(false)
      .filter((a) => hiveWide || a.submitter === viewer)
      .map((a) => approvalThread(a, now));
    const asked = (
      hiveWide || viewer === null ? questions.open() : questions.openAbout(viewer)
    ).map((q) => questionThread(q, viewer, now));
    return [...pending, ...asked].sort(
      (a, b) => a.created_at - b.created_at || a.kind.localeCompare(b.kind) || a.id - b.id,
    );
  }
}

/** The text cut to {@link SUMMARY_CHARS} characters (code points: an emoji is never split). */
function summary(text: string): string {
  const chars = [...text];
  return chars.length <= SUMMARY_CHARS ? text : `${chars.slice(0, SUMMARY_CHARS - 1).join("")}…`;
}

const ageSeconds = (createdAt: number, now: number): number =>
  Math.max(0, Math.floor((now - createdAt) / 1000));

function approvalThread(a: Approval, now: number): OpenThread {
  return {
    kind: "approval",
    id: a.id,
    summary: a.summary,
    submitter: a.submitter,
    counterparty: "operator",
    created_at: a.created_at,
    age_seconds: ageSeconds(a.created_at, now),
  };
}

/**
 * A question from `viewer`'s side: its role and the other party. With no part in it (or no
 * viewer) the role is null and the counterparty is the one it waits on, the target.
 */
function questionThread(q: Question, viewer: AgentName | null, now: number): OpenThread {
  const role = q.asker === viewer ? "asker" : q.target === viewer ? "target" : null;
  return {
    kind: "question",
    id: q.id,
    summary: summary(q.question),
    asker: q.asker,
    target: q.target,
    role,
    counterparty: role === "target" ? q.asker : q.target,
    created_at: q.created_at,
    expires_at: q.expires_at,
    age_seconds: ageSeconds(q.created_at, now),
  };
}
