import type { ServiceEvent } from "@hyperhive/shared/contract";
import { Age } from "../components/Age.js";
import { Panel } from "../components/Panel.js";
import type { Hive } from "../state/hive.js";

/** What one service event says, in a few words. */
function what(e: ServiceEvent): string {
  switch (e.event) {
    case "started":
      return e.starts > 1 ? `back up (start ${e.starts})` : "started";
    case "exited":
      return `exited${e.detail ? ` (${e.detail})` : ""}`;
    case "restarting":
      return `restarting${e.detail ? ` ${e.detail}` : ""}`;
    case "gave_up":
      return `given up${e.detail ? `: ${e.detail}` : ""}; the hive is stopping`;
  }
}

/**
 * Dashboard: the hive's own services as `hive up` supervises them (an exit, its restart, a
 * give-up), live; shown only once something happened since the page opened.
 */
export function ServicesPanel({ hive }: { hive: Hive }) {
  const events = hive.serviceEvents.value;
  if (events.length === 0) return null;
  return (
    <Panel id="services-panel" title="Hive services">
      <ol id="services" class="services">
        {events.map((e) => (
          <li
            key={`${e.service}-${e.at}-${e.event}`}
            class={`service service-${e.event}`}
            data-service={e.service}
            data-event={e.event}
          >
            <span class="service-name">{e.service}</span> <span class="what">{what(e)}</span>{" "}
            <Age since={e.at} class="muted" />
          </li>
        ))}
      </ol>
    </Panel>
  );
}
