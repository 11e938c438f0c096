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
import { connectHive } from "./state/hive.js";
import { connectTurns } from "./state/turns.js";

const root = document.getElementById("app");
if (root === null) throw new Error("the page has no #app element");
const { page, agent } = root.dataset;
const data = PageData.parse(agent === undefined ? { page } : { page, agent });
root.replaceChildren();
if (data.page === "dashboard") {
  render(<DashboardPage hive={connectHive()} />, root);
} else {
  render(
    <AgentPage name={data.agent} hive={connectHive()} turns={connectTurns(data.agent)} />,
    root,
  );
}
