import { type Approval, type ApprovalResponse, rpcs, subjects } from "@hyperhive/shared";
import { askHive, TIMEOUTS } from "./client.js";
import type { Output } from "./output.js";
import { ago, cell, table } from "./table.js";

/**
 * `hive approvals`, `hive approve`, `hive deny`: the operator's side of c0re's approvals queue
 * (spawning an agent, changing an agent's config). The outcome of a decision is said the way c0re
 * tells the submitter: `approval #7 spawn alice: approved; alice is starting`.
 */

/** What an approval is about, in a few words: `spawn alice`, `config of alice (1a2b3c4)`. */
export function approvalLabel(a: Approval): string {
  return a.kind === "spawn"
    ? `spawn ${a.details.name}`
    : `config of ${a.details.agent} (${a.details.commit.slice(0, 7)})`;
}

/** An approval and where it stands: `approval #7 spawn alice: denied: not now`. */
export function approvalOutcome(a: Approval): string {
  const head = `approval #${a.id} ${approvalLabel(a)}`;
  switch (a.state) {
    case "pending":
      return `${head}: pending`;
    case "approved":
      return `${head}: approved${a.note ? `; ${a.note}` : ""}`;
    case "denied":
      return `${head}: denied: ${a.note ?? "no reason given"}`;
    case "failed":
      return `${head}: failed: ${a.note ?? "no reason given"}`;
  }
}

/** The queue as a table: ID, KIND, SUBMITTER, SUMMARY, STATE, AGE (and NOTE when any has one). */
export function approvalsTable(list: readonly Approval[], now: number): string {
  const withNote = list.some((a) => a.note !== null);
  const header = ["ID", "KIND", "SUBMITTER", "SUMMARY", "STATE", "AGE"];
  return table([
    withNote ? [...header, "NOTE"] : header,
    ...list.map((a) => {
      const row = [
        String(a.id),
        a.kind,
        a.submitter,
        cell(a.summary, 72),
        a.state,
        ago(now - a.created_at),
      ];
      return withNote ? [...row, cell(a.note ?? "-", 72)] : row;
    }),
  ]);
}

/** The diff of a config change, under a line saying whose and from what to what. */
export function approvalDiff(a: Approval): string | undefined {
  if (a.kind !== "apply_commit") return undefined;
  const { base, commit, diff } = a.details;
  const title = `#${a.id} ${approvalLabel(a)}: ${base.slice(0, 7)}..${commit.slice(0, 7)}`;
  return `${title}\n${diff.trimEnd()}`;
}

/** `hive approvals [--all] [--diff]`: newest first; `--json` always carries the diffs. */
export async function approvals(
  root: string,
  o: { all: boolean; diff: boolean },
  out: Output,
): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.approvals,
    rpcs.opApprovals,
    o.all ? { all: true } : {},
  );
  const list = res.approvals;
  if (list.length === 0) {
    out.result(res, o.all ? "(no approvals)" : "(no pending approvals)");
    return;
  }
  const parts = [approvalsTable(list, Date.now())];
  if (o.diff) {
    for (const a of list) {
      const d = approvalDiff(a);
      if (d !== undefined) parts.push(d);
    }
  }
  out.result(res, parts.join("\n\n"));
}

/**
 * Says how a decision came out; an approval that failed when carried out is a failure of the
 * command (exit 1), its line on stderr.
 */
function decided(res: ApprovalResponse, out: Output): boolean {
  const line = approvalOutcome(res.approval);
  out.json(res);
  if (res.approval.state === "failed") out.problem(`hive: ${line}`);
  else out.text(line);
  return res.approval.state !== "failed";
}

/**
 * `hive approve <id>`: carried out before c0re answers (an agent created and started, or a
 * config applied and its agent restarted), so it may take a while. Not retried once taken.
 * Resolves false when carrying it out failed.
 */
export async function approve(root: string, id: number, out: Output): Promise<boolean> {
  const res = await askHive(
    root,
    subjects.op.approve,
    rpcs.opApprove,
    { id },
    {
      retryOn: "unheard",
      timeoutMs: TIMEOUTS.approve,
    },
  );
  return decided(res, out);
}

/** `hive deny <id> [--reason TEXT]`: the submitter is told, with the reason. */
export async function deny(
  root: string,
  id: number,
  reason: string | undefined,
  out: Output,
): Promise<boolean> {
  const res = await askHive(
    root,
    subjects.op.deny,
    rpcs.opDeny,
    reason === undefined ? { id } : { id, reason },
    { retryOn: "unheard" },
  );
  return decided(res, out);
}
