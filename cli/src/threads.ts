import { type AgentName, type OpenThread, rpcs, subjects } from "@hyperhive/shared";
import { askHive } from "./client.js";
import type { Output } from "./output.js";
import { ago, cell, inTime, table } from "./table.js";

/**
 * `hive threads [<agent>]`: what is still pending (c0re's open threads), the same list as the
 * agent's `get_open_threads` and its dashboard page: approvals waiting on the operator, questions
 * waiting on their target.
 */

/** `approval #7`, `question #12`: ids are per kind, so the kind goes with them. */
function threadName(t: OpenThread): string {
  return `${t.kind} #${t.id}`;
}

/** Who waits on whom: an approval's submitter on the operator, a question's asker on its target. */
function parties(t: OpenThread): [from: string, to: string] {
  return t.kind === "approval" ? [t.submitter, "operator"] : [t.asker, t.target];
}

/**
 * The agent's part in a thread and the other party: an approval it `submitted` (waiting on the
 * operator), a question it is the `asker` or the `target` of. The manager's list is hive-wide:
 * a question it has no part in shows `-` and both parties (`alice -> bob`).
 */
function part(t: OpenThread): [role: string, counterparty: string] {
  if (t.kind === "approval") return ["submitter", t.counterparty];
  if (t.role === null) return ["-", `${t.asker} -> ${t.target}`];
  return [t.role, t.counterparty];
}

/** When an open question runs out: `in 8m`; `-` for one that never does and for approvals. */
function expiry(t: OpenThread, now: number): string {
  return t.kind === "question" && t.expires_at !== null ? inTime(t.expires_at - now) : "-";
}

/**
 * The threads as a table, oldest first (as c0re lists them). Of one agent: THREAD, ROLE,
 * COUNTERPARTY, SUMMARY, AGE, EXPIRES. Of the hive: THREAD, FROM, TO, SUMMARY, AGE, EXPIRES.
 */
export function threadsTable(
  list: readonly OpenThread[],
  agent: AgentName | undefined,
  now: number,
): string {
  const tail = (t: OpenThread) => [cell(t.summary, 72), ago(t.age_seconds * 1000), expiry(t, now)];
  if (agent !== undefined) {
    return table([
      ["THREAD", "ROLE", "COUNTERPARTY", "SUMMARY", "AGE", "EXPIRES"],
      ...list.map((t) => [threadName(t), ...part(t), ...tail(t)]),
    ]);
  }
  return table([
    ["THREAD", "FROM", "TO", "SUMMARY", "AGE", "EXPIRES"],
    ...list.map((t) => [threadName(t), ...parties(t), ...tail(t)]),
  ]);
}

/** `hive threads [<agent>]`: one agent's open threads, or the whole hive's. */
export async function threads(
  root: string,
  agent: AgentName | undefined,
  out: Output,
): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.threads,
    rpcs.opThreads,
    agent === undefined ? {} : { agent },
  );
  if (res.threads.length === 0) {
    out.result(
      res,
      agent === undefined ? "(nothing open in the hive)" : `(nothing open for ${agent})`,
    );
    return;
  }
  out.result(res, threadsTable(res.threads, agent, Date.now()));
}
