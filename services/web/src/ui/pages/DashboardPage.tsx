import { Header } from "../components/Header.js";
import { AgentsPanel } from "../panels/AgentsPanel.js";
import { InboxPanel } from "../panels/InboxPanel.js";
import { SendPanel } from "../panels/SendPanel.js";
import { ServicesPanel } from "../panels/ServicesPanel.js";
import type { Hive } from "../state/hive.js";

/** `/`: the agents, the hive's services when something happened to one, the send form, the inbox. */
export function DashboardPage({ hive }: { hive: Hive }) {
  return (
    <>
      <Header streams={[hive.stream.status.value]} />
      <main>
        <AgentsPanel hive={hive} />
        <ServicesPanel hive={hive} />
        <div class="columns">
          <SendPanel hive={hive} />
          <InboxPanel hive={hive} />
        </div>
      </main>
    </>
  );
}
