import { Header } from "../components/Header.js";
import { AgentsPanel } from "../panels/AgentsPanel.js";
import { ApprovalsPanel } from "../panels/ApprovalsPanel.js";
import { InboxPanel } from "../panels/InboxPanel.js";
import { QuestionsPanel } from "../panels/QuestionsPanel.js";
import { SendPanel } from "../panels/SendPanel.js";
import { ServicesPanel } from "../panels/ServicesPanel.js";
import { SharedFilesPanel } from "../panels/SharedFilesPanel.js";
import { TombstonesPanel } from "../panels/TombstonesPanel.js";
import type { Compose } from "../state/compose.js";
import type { Hive } from "../state/hive.js";

/**
 * `/`: the approvals queue, the questions put to the operator, the agents, the tombstones (when
 * there are any), the hive's services (when something happened to one), the send form and the
 * inbox (whose Reply fills the send form), and the hive's shared dir (read on demand).
 */
export function DashboardPage({ hive, compose }: { hive: Hive; compose: Compose }) {
  return (
    <>
      <Header streams={[hive.stream.status.value]} />
      <main>
        <ApprovalsPanel hive={hive} />
        <QuestionsPanel hive={hive} />
        <AgentsPanel hive={hive} />
        <TombstonesPanel hive={hive} />
        <ServicesPanel hive={hive} />
        <div class="columns">
          <SendPanel hive={hive} compose={compose} />
          <InboxPanel hive={hive} compose={compose} />
        </div>
        <SharedFilesPanel />
      </main>
    </>
  );
}
