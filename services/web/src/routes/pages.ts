import { ErrorCode, HiveError, request, rpcs, subjects } from "@hyperhive/shared";
import { agentPage, dashboardPage, flowPage } from "../html.js";
import { pages } from "../wire.js";
import type { RouteDeps, WebApp } from "./types.js";

const HTML = "text/html; charset=utf-8";

/**
 * The pages: shells the bundled UI fills. A bad agent name is a 400, an unknown agent a 404; the
 * flow page's `?agent=` is any recipient name (its mail may outlive the agent).
 */
export function pageRoutes(app: WebApp, { nc, timeoutMs }: RouteDeps): void {
  app.get(pages.dashboard.path, async (_req, reply) => reply.type(HTML).send(dashboardPage()));

  app.get(pages.agent.path, { schema: { params: pages.agent.params } }, async (req, reply) => {
    const name = req.params.name;
    // Ask the registry: a page for an agent that does not exist would wait for events forever.
    const { agents } = await request(nc, subjects.op.agents, rpcs.opAgents, {}, { timeoutMs });
    if (!agents.some((a) => a.name === name)) {
      throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    }
    return reply.type(HTML).send(agentPage(name));
  });

  app.get(pages.flow.path, { schema: { querystring: pages.flow.query } }, async (req, reply) =>
    reply.type(HTML).send(flowPage(req.query.agent)),
  );
}
