import { ApprovalItem } from "../components/ApprovalItem.js";
import { Counted } from "../components/Counted.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import type { Hive } from "../state/hive.js";

/** Decided approvals shown in the history before "older ones" are left out. */
export const HISTORY_SHOWN = 20;

/**
 * Dashboard: what waits for the operator's yes or no (spawning an agent, changing an agent's
 * config, with its diff), then a short history of decisions behind a toggle. Live from events.
 */
export function ApprovalsPanel({ hive }: { hive: Hive }) {
  const { approvals } = hive;
  const pending = approvals.pending.value;
  const decided = approvals.decided.value;
  return (
    <Panel
      id="approvals-panel"
      title={<Counted title="Approvals" id="approvals-count" items={pending} />}
    >
      <ol id="approvals" class="approvals">
        {pending === null || pending.length === 0 ? (
          <li class="empty muted">{pending === null ? "loading…" : "nothing waits for you"}</li>
        ) : (
          pending.map((a) => <ApprovalItem key={a.id} a={a} approvals={approvals} />)
        )}
      </ol>
      {decided.length > 0 && (
        <details id="approvals-history" class="history">
          <summary>
            decided ({decided.length}
            {decided.length > HISTORY_SHOWN ? `, the latest ${HISTORY_SHOWN} shown` : ""})
          </summary>
          <ol class="approvals">
            {decided.slice(0, HISTORY_SHOWN).map((a) => (
              <ApprovalItem key={a.id} a={a} approvals={approvals} />
            ))}
          </ol>
        </details>
      )}
      <ProblemLine id="approvals-error" problem={approvals.problem.value} />
    </Panel>
  );
}
