import type { AgentName } from "@hyperhive/shared/contract";
import { pages } from "../../wire.js";
import { Age } from "../components/Age.js";
import { ModelChip } from "../components/ModelChip.js";
import { StateBadge } from "../components/StateBadge.js";
import type { Hive } from "../state/hive.js";

/**
 * Agent page: the agent's name, its model, its state badge and how long it has been in it, and a
 * link to its mail in the message flow.
 */
export function AgentHeadPanel({ name, hive }: { name: AgentName; hive: Hive }) {
  const agents = hive.agents.value;
  const a = agents?.find((x) => x.name === name);
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
        <a id="agent-mail" class="mail-link" href={pages.flow.url(name)}>
          its mail
        </a>
      </h2>
    </section>
  );
}
