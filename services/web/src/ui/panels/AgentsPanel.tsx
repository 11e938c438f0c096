import { pages } from "../../wire.js";
import { Age } from "../components/Age.js";
import { AgentActions } from "../components/AgentActions.js";
import { ModelChip } from "../components/ModelChip.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { ReminderBanner } from "../components/ReminderBanner.js";
import { ReminderChip } from "../components/ReminderChip.js";
import { RestartAll } from "../components/RestartAll.js";
import { StateBadge } from "../components/StateBadge.js";
import type { Hive } from "../state/hive.js";

/** The agents table's columns. */
const COLUMNS = ["agent", "role", "model", "state", "since", "process", "reminders", "actions"];

/**
 * Dashboard: every active agent with its model, state badge, how long it has been in it, its
 * process, its reminders' chip and (sub-agents) its lifecycle buttons, and under a row whose
 * agent has a reminder failing to land, a banner with the error and "retry now"; restart-all
 * above. Live from events.
 */
export function AgentsPanel({ hive }: { hive: Hive }) {
  const agents = hive.agents.value;
  const { reminders } = hive;
  const counts = reminders.counts.value;
  return (
    <Panel id="agents-panel" title="Agents">
      <RestartAll />
      <table id="agents" class="agents">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {agents === null || agents.length === 0 ? (
            <tr class="empty">
              <td colSpan={COLUMNS.length}>{agents === null ? "loading…" : "no agents"}</td>
            </tr>
          ) : (
            agents.map((a) => [
              <tr key={a.name} data-agent={a.name}>
                <td>
                  <a class="agent-link" href={pages.agent.url(a.name)}>
                    {a.name}
                  </a>
                </td>
                <td class="muted">{a.role}</td>
                <td>
                  <ModelChip model={a.model} />
                </td>
                <td>
                  <StateBadge state={a.state} since={a.state_since} note={a.note} />
                </td>
                <td class="muted age">
                  <Age since={a.state_since} />
                </td>
                <td class={a.running ? "running" : "muted"}>{a.running ? "running" : "stopped"}</td>
                <td>
                  <ReminderChip
                    counts={counts?.get(a.name)}
                    loaded={counts !== null}
                    problem={reminders.problem.value}
                  />
                </td>
                <td>{a.role === "manager" ? null : <AgentActions agent={a} />}</td>
              </tr>,
              <ReminderBanner
                key={`${a.name}-reminders`}
                agent={a.name}
                reminders={reminders}
                span={COLUMNS.length}
              />,
            ])
          )}
        </tbody>
      </table>
      <ProblemLine id="agents-error" problem={hive.agentsProblem.value} />
    </Panel>
  );
}
