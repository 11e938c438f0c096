import { Header } from "../components/Header.js";
import { AgentsPanel } from "../panels/AgentsPanel.js";
import { ApprovalsPanel } from "../panels/ApprovalsPanel.js";
import { InboxPanel } from "../panels/InboxPanel.js";
import { SendPanel } from "../panels/SendPanel.js";
import { ServicesPanel } from "../panels/ServicesPanel.js";
import { TombstonesPanel } from "../panels/TombstonesPanel.js";
import type { Hive } from "../state/hive.js";

/**
 * `/`: the approvals queue, the agents, the tombstones (when there are any), the hive's services
 * (when something happened to one), the send form and the inbox.
 */
export function DashboardPage({ hive }: { hive: Hive }) {
  return (
    <>
      <Header streams={[hive.stream.status.value]} />
      <main>
        <ApprovalsPanel hive={hive} />
        <AgentsPanel hive={hive} />
        <TombstonesPanel hive={hive} />
        <ServicesPanel hive={hive} />
        <div class="columns">
          <SendPanel hive={hive} />
          <InboxPanel hive={hive} />
        </div>
      </main>
    </>
  );
}
