/**
 * Test data shaped like c0re's, the broker's and the scheduler's: agents, messages, approvals,
 * questions, reminders.
 */
import {
  type AgentInfo,
  type Approval,
  ErrorCode,
  HiveError,
  type LiveEvent,
  type Question,
  type Receipt,
  type Reminder,
  type StoredMessage,
} from "@hyperhive/shared";
import { UNTOUCHED_REMINDER } from "@hyperhive/shared/testing";

/** A live event without what every event of the turn shares (the test fills those in). */
export type LiveBody = LiveEvent extends infer E
  ? E extends LiveEvent
    ? Omit<E, "agent" | "turn_id" | "seq" | "at">
    : never
  : never;

/** An agent as c0re lists it: running and idle for a minute, model haiku. */
export function agentInfo(name: string, over: Partial<AgentInfo> = {}): AgentInfo {
  return {
    name,
    role: name === "manager" ? "manager" : "agent",
    state: "idle",
    state_since: Date.now() - 65_000,
    running: true,
    state_dir: `/hive/agents/${name}/state`,
    started_at: Date.now() - 120_000,
    model: "haiku",
    tombstoned_at: null,
    starts: 1,
    ...over,
  };
}

/** A receipt of `recipient`: queued unless said otherwise. */
export function receipt(recipient: string, over: Partial<Receipt> = {}): Receipt {
  return { recipient, state: "queued", deliveries: 0, acked_at: null, ...over };
}

/**
 * A stored message from `from` to `to` (an agent, the operator, or `*` with a receipt per name in
 * `recipients`), sent a second ago, queued for each recipient.
 */
export function message(
  id: number,
  from: string,
  to: string,
  body: string,
  over: Partial<StoredMessage> & { recipients?: readonly string[] } = {},
): StoredMessage {
  const { recipients = [to], ...rest } = over;
  return {
    id,
    from,
    to,
    body,
    sent_at: Date.now() - 1000,
    in_reply_to: null,
    reply_to: null,
    receipts: recipients.map((r) => receipt(r)),
    acked_at: null,
    ...rest,
  };
}

/** A message to the operator, sent a second ago. */
export function stored(id: number, from: string, body: string): StoredMessage {
  return message(id, from, "operator", body);
}

/** What an approval's fields other than kind and details may be set to in a test. */
type ApprovalFields = Partial<Omit<Approval, "kind" | "details">>;

/** The fields of a pending approval the manager asked for `ageMs` ago. */
function pendingFields(id: number, summary: string, ageMs: number) {
  return {
    id,
    submitter: "manager",
    summary,
    created_at: Date.now() - ageMs,
    state: "pending",
    decided_at: null,
    decided_by: null,
    note: null,
  } as const;
}

/** A pending spawn approval asked by the manager. */
export function spawnApproval(id: number, name: string, over: ApprovalFields = {}): Approval {
  return {
    ...pendingFields(id, `spawn ${name}`, 30_000),
    kind: "spawn",
    details: { name },
    ...over,
  };
}

/** A config diff of `agents/<agent>.json` changing its model from haiku to sonnet. */
export function modelDiff(agent: string): string {
  return [
    `diff --git a/agents/${agent}.json b/agents/${agent}.json`,
    "index 1111111..2222222 100644",
    `--- a/agents/${agent}.json`,
    `+++ b/agents/${agent}.json`,
    "@@ -1,3 +1,3 @@",
    " {",
    '-  "model": "haiku",',
    '+  "model": "sonnet",',
    '   "env": {}',
    "",
  ].join("\n");
}

/** A pending apply_commit approval: the manager asks to change `agent`'s model. */
export function commitApproval(id: number, agent: string, over: ApprovalFields = {}): Approval {
  return {
    ...pendingFields(id, `config of ${agent}: model haiku -> sonnet`, 20_000),
    kind: "apply_commit",
    details: {
      agent,
      commit: "c".repeat(40),
      base: "b".repeat(40),
      diff: modelDiff(agent),
    },
    ...over,
  };
}

/**
 * What c0re does to its queue when the operator decides: the approval, decided now by the
 * operator. Deciding one that is not pending is a conflict and an unknown id not_found; both
 * leave the queue as it was.
 */
export function decideIn(
  queue: Map<number, Approval>,
  id: number,
  state: "approved" | "denied",
  note: string | null,
): Approval {
  const a = queue.get(id);
  if (a === undefined) throw new HiveError(ErrorCode.NotFound, `no approval #${id}`);
  if (a.state !== "pending") {
    throw new HiveError(ErrorCode.Conflict, `approval #${id} is ${a.state} already`);
  }
  const now: Approval = { ...a, state, decided_at: Date.now(), decided_by: "operator", note };
  queue.set(id, now);
  return now;
}

/** An open question `asker` put to the operator a minute ago, expiring in ten. */
export function question(id: number, asker: string, over: Partial<Question> = {}): Question {
  return {
    id,
    asker,
    target: "operator",
    question: `question ${id} from ${asker}?`,
    options: [],
    multi: false,
    created_at: Date.now() - 60_000,
    expires_at: Date.now() + 600_000,
    state: "open",
    answer: null,
    answered_at: null,
    answered_by: null,
    ...over,
  };
}

/** A pending reminder of `owner`'s, set by the operator a minute ago, due in ten, once. */
export function reminder(id: number, owner: string, over: Partial<Reminder> = {}): Reminder {
  return {
    id,
    owner,
    body: `reminder ${id} for ${owner}`,
    created_by: "operator",
    created_at: Date.now() - 60_000,
    due_at: Date.now() + 600_000,
    ...UNTOUCHED_REMINDER,
    ...over,
  };
}

/** `r` after its current occurrence failed once more with `error`, the next try in `retryInMs`. */
export function failedTry(r: Reminder, error: string, retryInMs = 30_000): Reminder {
  return {
    ...r,
    attempt_count: r.attempt_count + 1,
    last_error: error,
    retry_at: Date.now() + retryInMs,
  };
}

/** `r` after its current occurrence landed: delivered (a one-shot) or due again (repeating). */
export function landed(r: Reminder): Reminder {
  const now = Date.now();
  const again = r.every_seconds !== null;
  return {
    ...r,
    state: again ? "pending" : "delivered",
    due_at: again ? r.due_at + (r.every_seconds ?? 0) * 1000 : r.due_at,
    delivered_count: r.delivered_count + 1,
    last_delivered_at: now,
    attempt_count: 0,
    last_error: null,
    retry_at: null,
  };
}
