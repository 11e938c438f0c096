import type { AgentState } from "@hyperhive/shared/contract";
import { clock } from "../lib/format.js";

/**
 * An agent's state as a coloured badge, with since when (and why, when known) in the tooltip.
 * `state` null: not known (yet); `label` then says what to show instead.
 */
export function StateBadge(props: {
  state: AgentState | null;
  since?: number | undefined;
  note?: string | undefined;
  label?: string;
  id?: string;
}) {
  const { state, since, note } = props;
  const tip =
    state !== null && since !== undefined
      ? `${state} since ${clock(since)}${note ? ` — ${note}` : ""}`
      : undefined;
  return (
    <span
      id={props.id}
      class={`badge state-${state ?? "unknown"}`}
      title={tip}
      data-state={state ?? undefined}
    >
      {state ?? props.label ?? "…"}
    </span>
  );
}
