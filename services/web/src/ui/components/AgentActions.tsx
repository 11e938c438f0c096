import { useSignal } from "@preact/signals";
import type { AgentAction } from "../../wire.js";
import { useAction } from "../lib/action.js";
import { agentAction } from "../lib/api.js";
import type { AgentView } from "../state/hive.js";
import { ActionStatus } from "./ActionStatus.js";

/**
 * A sub-agent's lifecycle buttons: stop, start, restart, and destroy (which asks once more: it
 * stops the agent for good, leaving a tombstone). The manager has none: its lifecycle is the
 * hive's (restart-all, `hive restart manager`). The list changes by the lifecycle events.
 */
export function AgentActions({ agent }: { agent: AgentView }) {
  const action = useAction();
  const confirming = useSignal(false);
  const busy = action.busy.value;
  const act = (what: AgentAction) => {
    confirming.value = false;
    void action.run(
      () => agentAction(agent.name, what),
      () => (what === "destroy" ? "destroyed" : `${what} done`),
    );
  };
  const button = (what: AgentAction, label: string, disabled = false) => (
    <button
      type="button"
      class={`small act-${what}`}
      data-action={what}
      disabled={busy || disabled}
      onClick={() => act(what)}
    >
      {label}
    </button>
  );
  return (
    <div class="actions">
      {confirming.value ? (
        <span class="confirm">
          destroy {agent.name}? {button("destroy", "yes, destroy")}
          <button
            type="button"
            class="small secondary act-keep"
            onClick={() => {
              confirming.value = false;
            }}
          >
            no
          </button>
        </span>
      ) : (
        <>
          {button("stop", "stop", !agent.running)}
          {button("start", "start", agent.running)}
          {button("restart", "restart")}
          <button
            type="button"
            class="small danger act-destroy-ask"
            disabled={busy}
            onClick={() => {
              confirming.value = true;
            }}
          >
            destroy…
          </button>
        </>
      )}
      <ActionStatus action={action} />
    </div>
  );
}
