import type { Approval } from "@hyperhive/shared/contract";
import { useSignal } from "@preact/signals";
import { useAction } from "../lib/action.js";
import { approve, deny } from "../lib/api.js";
import { clock } from "../lib/format.js";
import type { Approvals } from "../state/approvals.js";
import { ActionStatus } from "./ActionStatus.js";
import { Age } from "./Age.js";
import { DiffView } from "./DiffView.js";

const short = (sha: string) => sha.slice(0, 10);

/** What a config change is: whose file, which commit on which base, and the diff. */
function CommitDetails({ a, open }: { a: Approval & { kind: "apply_commit" }; open: boolean }) {
  const d = a.details;
  const diff = <DiffView diff={d.diff} />;
  return (
    <div class="approval-commit">
      <div class="muted commit-line">
        agents/{d.agent}.json · commit <code title={d.commit}>{short(d.commit)}</code> on{" "}
        <code title={d.base}>{short(d.base)}</code>
      </div>
      {open ? (
        diff
      ) : (
        <details>
          <summary>diff</summary>
          {diff}
        </details>
      )}
    </div>
  );
}

/** Approve, or deny with an optional reason told to the submitter. */
function Decide({ a, approvals }: { a: Approval; approvals: Approvals }) {
  const reason = useSignal("");
  const action = useAction();
  const decided = (r: { approval: Approval }) => {
    approvals.noteReply(r.approval);
    return `${r.approval.state}${r.approval.note ? `: ${r.approval.note}` : ""}`;
  };
  return (
    <div class="decide">
      <div class="form-row">
        <button
          type="button"
          class="approve"
          disabled={action.busy.value}
          onClick={() => void action.run(() => approve(a.id), decided)}
        >
          approve
        </button>
        <input
          class="reason"
          type="text"
          maxLength={1000}
          placeholder="reason (optional, told to the submitter)"
          value={reason.value}
          onInput={(e) => {
            reason.value = e.currentTarget.value;
          }}
        />
        <button
          type="button"
          class="deny"
          disabled={action.busy.value}
          onClick={() => void action.run(() => deny(a.id, reason.value), decided)}
        >
          deny
        </button>
      </div>
      <ActionStatus action={action} />
    </div>
  );
}

/** One approval: what is asked and by whom; pending: the decision; decided: who, when and why. */
export function ApprovalItem({ a, approvals }: { a: Approval; approvals: Approvals }) {
  const pending = a.state === "pending";
  return (
    <li
      class={`approval approval-${a.state}`}
      data-id={a.id}
      data-kind={a.kind}
      data-state={a.state}
    >
      <div class="approval-head">
        <span class="muted">#{a.id}</span>
        <span class="badge kind">{a.kind === "spawn" ? "spawn" : "config"}</span>
        <span class="summary">{a.summary}</span>
        <span class="muted">
          from {a.submitter} · <Age since={a.created_at} /> ago
        </span>
        <span class={`badge approval-state state-${a.state}`}>{a.state}</span>
      </div>
      {a.kind === "apply_commit" && <CommitDetails a={a} open={pending} />}
      {pending ? (
        <Decide a={a} approvals={approvals} />
      ) : (
        <p class="decided muted">
          {a.state} by {a.decided_by ?? "?"}
          {a.decided_at !== null && ` at ${clock(a.decided_at)}`}
          {a.note !== null && <span class="note">{` — ${a.note}`}</span>}
        </p>
      )}
    </li>
  );
}
