import type { AgentName } from "@hyperhive/shared/contract";
import { Counted } from "../components/Counted.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { ReminderChip } from "../components/ReminderChip.js";
import { ReminderItem } from "../components/ReminderItem.js";
import { RemindForm } from "../components/RemindForm.js";
import type { AgentReminders, Reminders } from "../state/reminders.js";

/**
 * Agent page: the agent's reminders — pending ones soonest due first, then delivered and
 * cancelled ones — each with its due time, repeat, state, deliveries and failures, cancel and
 * (failing) retry now; its counts as a chip; the form that sets one for it. Loaded with each
 * snapshot, then live from `reminder` events.
 */
export function RemindersPanel(props: {
  name: AgentName;
  reminders: Reminders;
  mine: AgentReminders;
}) {
  const { name, reminders, mine } = props;
  const list = mine.list.value;
  const pending = list?.filter((r) => r.state === "pending") ?? null;
  const problem = mine.problem.value ?? reminders.problem.value;
  return (
    <Panel
      id="reminders-panel"
      title={
        <>
          <Counted title="Reminders" id="reminders-count" items={pending} />{" "}
          <ReminderChip
            id="agent-reminders"
            counts={reminders.counts.value?.get(name)}
            loaded={reminders.counts.value !== null}
            problem={reminders.problem.value}
          />
        </>
      }
    >
      <RemindForm agent={name} reminders={reminders} />
      <ol id="reminders" class="reminders" data-agent={name}>
        {list === null || list.length === 0 ? (
          <li class="empty muted">{list !== null ? "no reminders" : problem ? "—" : "loading…"}</li>
        ) : (
          list.map((r) => <ReminderItem key={r.id} r={r} reminders={reminders} />)
        )}
      </ol>
      {mine.truncated.value && (
        <p class="muted">the scheduler left some off: the list is longer than it sends at once</p>
      )}
      <ProblemLine id="reminders-error" problem={problem} />
    </Panel>
  );
}
