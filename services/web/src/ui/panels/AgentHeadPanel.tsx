import type { AgentName } from "@hyperhive/shared/contract";
import { pages } from "../../wire.js";
import { Age } from "../components/Age.js";
import { ModelChip } from "../components/ModelChip.js";
import { StateBadge } from "../components/StateBadge.js";
import { contextOf, lastTurnMs } from "../lib/turn-figures.js";
import type { Hive } from "../state/hive.js";
import type { Turns } from "../state/turns.js";

/**
 * Agent page: the agent's name, its model, its state badge and how long it has been in it, how
 * much context its latest turn filled and how long its last turn took (from its live turns), and
 * a link to its mail in the message flow.
 */
export function AgentHeadPanel({
  name,
  hive,
  turns,
}: {
  name: AgentName;
  hive: Hive;
  turns: Turns;
}) {
  const agents = hive.agents.value;
  const a = agents?.find((x) => x.name === name);
  const ctx = contextOf(turns.turns.value);
  const ms = lastTurnMs(turns.turns.value);
  return (
    <section class="panel agent-head" id="agent" data-agent={name}>
      <h2>
        <a href="/">agents</a> / <span class="agent-name">{name}</span>
        {a && <ModelChip id="agent-model" model={a.model} />}
        <StateBadge
          id="agent-state"
          state={a?.state ?? null}
          since={a?.state_since}
          note={a?.note}
          label={agents === null ? "…" : "unknown agent"}
        />
        {a && <Age id="agent-since" class="muted" since={a.state_since} />}
        {ctx && (
          <span
            id="agent-ctx"
            class="chip ctx"
            title={`the context of its latest API call: input ${ctx.input} · cache read ${ctx.cacheRead} · cache write ${ctx.cacheWrite} · output ${ctx.output}`}
          >
            {ctx.total.toLocaleString("en")} tokens
          </span>
        )}
        {ms !== null && (
          <span id="agent-last-turn" class="chip last-turn" title={`${Math.round(ms)} ms`}>
            last turn {(ms / 1000).toFixed(1)} s
          </span>
        )}
        <a id="agent-mail" class="mail-link" href={pages.flow.url(name)}>
          its mail
        </a>
      </h2>
    </section>
  );
}
