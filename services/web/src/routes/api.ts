import { randomUUID } from "node:crypto";
import { request, rpcs, subjects } from "@hyperhive/shared";
import { api } from "../wire.js";
import type { RouteDeps, WebApp } from "./types.js";

/**
 * The JSON API: each route asks one NATS request and answers its reply. Request and reply are
 * checked against the wire's schemas (an invalid request never reaches NATS; a reply that breaks
 * its schema is a 500).
 */
export function apiRoutes(app: WebApp, { nc, timeoutMs }: RouteDeps): void {
  app.route({
    method: api.agents.method,
    url: api.agents.path,
    schema: { querystring: api.agents.query, response: { 200: api.agents.reply } },
    handler: (req) => request(nc, subjects.op.agents, rpcs.opAgents, req.query, { timeoutMs }),
  });

  app.route({
    method: api.inbox.method,
    url: api.inbox.path,
    schema: { querystring: api.inbox.query, response: { 200: api.inbox.reply } },
    handler: (req) => request(nc, subjects.op.inbox, rpcs.opInbox, req.query, { timeoutMs }),
  });

  app.route({
    method: api.send.method,
    url: api.send.path,
    schema: { body: api.send.body, response: { 200: api.send.reply } },
    handler: (req) =>
      request(
        nc,
        subjects.op.send,
        rpcs.send,
        { ...req.body, client_id: req.body.client_id ?? randomUUID() },
        { timeoutMs },
      ),
  });

  app.route({
    method: api.history.method,
    url: api.history.path,
    schema: { querystring: api.history.query, response: { 200: api.history.reply } },
    handler: (req) => request(nc, subjects.op.history, rpcs.opHistory, req.query, { timeoutMs }),
  });
}
