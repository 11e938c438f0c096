/**
 * The dashboard UI's entry point (bundled to `/assets/app.js`): reads which page the server's
 * shell asks for, opens that page's live streams and renders it. Every page is a list of panels
 * (`panels/`), each fed by the stores in `state/`.
 */
import "./zod-config.js";
import { render } from "preact";
import { PageData } from "../wire.js";
import { AgentPage } from "./pages/AgentPage.js";
import { DashboardPage } from "./pages/DashboardPage.js";
import { FlowPage } from "./pages/FlowPage.js";
import { createCompose } from "./state/compose.js";
import { connectFlow } from "./state/flow.js";
import { connectHive } from "./state/hive.js";
import { connectAgentReminders } from "./state/reminders.js";
import { connectThreads } from "./state/threads.js";
import { connectTurns } from "./state/turns.js";

const root = document.getElementById("app");
if (root === null) throw new Error("the page has no #app element");
const { page, agent } = root.dataset;
const data = PageData.parse(agent === undefined ? { page } : { page, agent });
root.replaceChildren();
if (data.page === "dashboard") {
  render(<DashboardPage hive={connectHive()} compose={createCompose()} />, root);
} else if (data.page === "agent") {
  const hive = connectHive();
  render(
    <AgentPage
      name={data.agent}
      hive={hive}
      turns={connectTurns(data.agent)}
      threads={connectThreads(data.agent, hive)}
      reminders={connectAgentReminders(data.agent, hive.reminders, hive.stream)}
    />,
    root,
  );
} else {
  render(<FlowPage flow={connectFlow(data.agent)} />, root);
}
