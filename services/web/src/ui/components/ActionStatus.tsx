import type { Action } from "../lib/action.js";
import { ProblemLine } from "./ProblemLine.js";

/** Beside an action's buttons: "…" while it runs, then what it came to, or its typed error. */
export function ActionStatus({ action, id }: { action: Action; id?: string }) {
  return (
    <>
      <span id={id} class="muted status" role="status">
        {action.busy.value ? "…" : action.status.value}
      </span>
      <ProblemLine problem={action.problem.value} />
    </>
  );
}
