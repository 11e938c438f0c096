import { useSignal } from "@preact/signals";
import { ActionStatus } from "../components/ActionStatus.js";
import { Age } from "../components/Age.js";
import { Panel } from "../components/Panel.js";
import { useAction } from "../lib/action.js";
import { purgeAgent } from "../lib/api.js";
import type { AgentView, Hive } from "../state/hive.js";

/**
 * Purge a tombstone: deletes its state dir and frees the name, which cannot be undone, so the
 * operator types the name first (c0re checks it too).
 */
function Purge({ agent }: { agent: AgentView }) {
  const asking = useSignal(false);
  const typed = useSignal("");
  const action = useAction();
  if (!asking.value) {
    return (
      <button
        type="button"
        class="small danger purge-ask"
        onClick={() => {
          asking.value = true;
        }}
      >
        purge…
      </button>
    );
  }
  return (
    <form
      class="purge"
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(
          () => purgeAgent(agent.name, typed.value),
          (r) => `purged: ${r.state_dir} deleted`,
        );
      }}
    >
      <input
        class="purge-confirm"
        type="text"
        placeholder={`type ${agent.name} to purge`}
        aria-label={`type ${agent.name} to confirm`}
        value={typed.value}
        onInput={(e) => {
          typed.value = e.currentTarget.value;
        }}
      />
      <button
        type="submit"
        class="small danger purge-go"
        disabled={action.busy.value || typed.value !== agent.name}
      >
        purge
      </button>
      <button
        type="button"
        class="small secondary"
        onClick={() => {
          asking.value = false;
          typed.value = "";
        }}
      >
        cancel
      </button>
      <ActionStatus action={action} />
    </form>
  );
}

/**
 * Dashboard: destroyed agents, whose state dirs are kept until purged; shown when there are any.
 * A purged one leaves the list by its lifecycle event.
 */
export function TombstonesPanel({ hive }: { hive: Hive }) {
  const tombstones = hive.tombstones.value;
  if (tombstones.length === 0) return null;
  return (
    <Panel id="tombstones-panel" title="Tombstones">
      <table id="tombstones" class="agents">
        <thead>
          <tr>
            <th>agent</th>
            <th>destroyed</th>
            <th>state dir (kept)</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tombstones.map((a) => (
            <tr key={a.name} data-agent={a.name}>
              <td>{a.name}</td>
              <td class="muted">
                {a.tombstoned_at !== null && (
                  <>
                    <Age since={a.tombstoned_at} /> ago
                  </>
                )}
              </td>
              <td>
                <code>{a.state_dir}</code>
              </td>
              <td>
                <Purge agent={a} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
