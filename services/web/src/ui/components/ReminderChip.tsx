import type { ReminderCounts } from "@hyperhive/shared/contract";
import type { Problem } from "../lib/api.js";

/**
 * An agent's reminders in numbers, as a chip: "2 pending · 5 delivered" (delivered all time,
 * each occurrence of a repeating one counted), " · 1 failing" in the warning colour when a
 * delivery waits for a retry. `counts` undefined: the agent has none; `loaded` false: the
 * scheduler's numbers are not in (yet), and `problem` says why when it did not answer.
 */
export function ReminderChip(props: {
  counts: ReminderCounts | undefined;
  loaded: boolean;
  problem: Problem | null;
  id?: string;
}) {
  const { counts, loaded, problem } = props;
  if (!loaded) {
    const why = problem ? `${problem.code}: ${problem.message}` : "loading";
    return (
      <span id={props.id} class="chip reminders unknown" title={`reminders: ${why}`}>
        reminders ?
      </span>
    );
  }
  const pending = counts?.pending ?? 0;
  const delivered = counts?.delivered ?? 0;
  const failing = counts?.failing ?? 0;
  return (
    <span
      id={props.id}
      class={failing > 0 ? "chip reminders failing" : "chip reminders"}
      title={`reminders: ${pending} pending, ${delivered} delivered (all time), ${failing} failing`}
      data-pending={pending}
      data-delivered={delivered}
      data-failing={failing}
    >
      {pending} pending · {delivered} delivered
      {failing > 0 && <span class="failing-count"> · {failing} failing</span>}
    </span>
  );
}
