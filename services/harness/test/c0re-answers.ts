import type { AgentInfo, Question } from "@hyperhive/shared";

/** A sub-agent as c0re answers a lifecycle verb: running (idle, on haiku) or stopped. */
export function agentInfo(name: string, running: boolean): AgentInfo {
  return {
    name,
    role: "agent",
    state: running ? "idle" : "offline",
    state_since: 1,
    running,
    state_dir: `/hive/agents/${name}/state`,
    started_at: 1,
    starts: 1,
    model: running ? "haiku" : null,
    tombstoned_at: null,
  };
}

/** The undecided half of an approval as c0re queues it for `submitter`. */
export function pendingFrom(submitter: string) {
  return {
    submitter,
    created_at: 1,
    state: "pending",
    decided_at: null,
    decided_by: null,
    note: null,
  } as const;
}

/** A question as c0re answers ask/answer/cancel_ask/list_my_asks: open, asked by alice at `at`. */
export function questionFrom(
  over: Partial<Question> & Pick<Question, "id" | "target" | "question">,
  at = 1,
): Question {
  return {
    asker: "alice",
    options: [],
    multi: false,
    created_at: at,
    expires_at: null,
    state: "open",
    answer: null,
    answered_at: null,
    answered_by: null,
    ...over,
  };
}
