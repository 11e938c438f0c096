import { Header } from "../components/Header.js";
import { AgentsPanel } from "../panels/AgentsPanel.js";
import { InboxPanel } from "../panels/InboxPanel.js";
import { SendPanel } from "../panels/SendPanel.js";
import type { Hive } from "../state/hive.js";

/** `/`: the agents, the send form and the operator inbox. */
export function DashboardPage({ hive }: { hive: Hive }) {
  return (
    <>
      <Header streams={[hive.stream.status.value]} />
      <main>
        <AgentsPanel hive={hive} />
        <div class="columns">
          <SendPanel hive={hive} />
          <InboxPanel hive={hive} />
        </div>
      </main>
    </>
  );
}
