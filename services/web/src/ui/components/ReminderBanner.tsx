import type { AgentName } from "@hyperhive/shared/contract";
import { pages } from "../../wire.js";
import type { Reminders } from "../state/reminders.js";
import { ReminderFailure } from "./ReminderFailure.js";

/** Failing reminders a banner details; the rest are counted, and listed on the agent's page. */
export const BANNER_SHOWN = 3;

/**
 * The banner under an agent's row while a reminder of its fails to land: each one's text, last
 * error, tries and next try, with "retry now". Nothing while none fails. It shows as long as the
 * agent's counts say one fails, even before the page knows which (a snapshot cut short).
 */
export function ReminderBanner(props: { agent: AgentName; reminders: Reminders; span: number }) {
  const { agent, reminders, span } = props;
  const list = reminders.failing.value.get(agent) ?? [];
  const total = Math.max(list.length, reminders.counts.value?.get(agent)?.failing ?? 0);
  if (total === 0) return null;
  const more = total - Math.min(list.length, BANNER_SHOWN);
  return (
    <tr class="reminder-banner" data-reminders-of={agent}>
      <td colSpan={span}>
        <p class="banner-head">
          {total === 1 ? "a reminder" : `${total} reminders`} to {agent} could not be delivered
        </p>
        <ul class="failing-reminders">
          {list.slice(0, BANNER_SHOWN).map((r) => (
            <li key={r.id} data-id={r.id}>
              <span class="muted">#{r.id}</span> <span class="reminder-text">{r.body}</span>
              <ReminderFailure r={r} reminders={reminders} />
            </li>
          ))}
        </ul>
        {more > 0 && (
          <p class="muted more-failing">
            and {more} more: see <a href={pages.agent.url(agent)}>{agent}'s reminders</a>
          </p>
        )}
      </td>
    </tr>
  );
}
