import { useSignal } from "@preact/signals";
import { useAction } from "../lib/action.js";
import { restartAll } from "../lib/api.js";
import { Age } from "./Age.js";
import { ProblemLine } from "./ProblemLine.js";

/**
 * Restart every agent, the manager first (asked once more). c0re answers only when it is done,
 * which can take minutes (the manager must go idle before the others restart): until then it
 * says it is working and for how long.
 */
export function RestartAll() {
  const action = useAction();
  const confirming = useSignal(false);
  const startedAt = useSignal(0);
  const go = () => {
    confirming.value = false;
    startedAt.value = Date.now();
    void action.run(restartAll, (r) => {
      const idle = r.manager_idle ? "" : " (the manager did not go idle in time)";
      return `restarted ${r.restarted.join(", ") || "nobody"}${idle}`;
    });
  };
  return (
    <div id="restart-all" class="restart-all">
      {confirming.value ? (
        <span class="confirm">
          restart every agent, the manager first?{" "}
          <button type="button" id="restart-all-yes" class="small danger" onClick={go}>
            yes, restart all
          </button>
          <button
            type="button"
            class="small secondary"
            onClick={() => {
              confirming.value = false;
            }}
          >
            no
          </button>
        </span>
      ) : (
        <button
          type="button"
          id="restart-all-button"
          class="small"
          disabled={action.busy.value}
          onClick={() => {
            confirming.value = true;
          }}
        >
          restart all
        </button>
      )}
      <span
        id="restart-all-status"
        class="muted"
        role="status"
        data-busy={String(action.busy.value)}
      >
        {action.busy.value ? (
          <>
            restarting: the manager first, then the others when it is idle…{" "}
            <Age since={startedAt.value} />
          </>
        ) : (
          action.status.value
        )}
      </span>
      <ProblemLine id="restart-all-error" problem={action.problem.value} />
    </div>
  );
}
