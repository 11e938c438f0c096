import { request, rpcs, subjects } from "@hyperhive/shared";
import { api } from "../wire.js";
import { type RouteDeps, schemaOf, type WebApp } from "./types.js";

/**
 * The approvals queue (c0re): the list, and the operator's yes or no. c0re carries an approval
 * out before it answers (a spawn starts the agent, a config change restarts it), so deciding
 * waits as long as an action does. Every change also comes as an `approval` event on
 * `/api/events`.
 */
export function approvalRoutes(app: WebApp, deps: RouteDeps): void {
  const { nc } = deps;
  const decide = { timeoutMs: deps.actionTimeoutMs, signal: deps.closing };

  app.route({
    method: api.approvals.method,
    url: api.approvals.path,
    schema: { querystring: api.approvals.query, response: { 200: api.approvals.reply } },
    handler: (req) =>
      request(nc, subjects.op.approvals, rpcs.opApprovals, req.query, {
        timeoutMs: deps.timeoutMs,
      }),
  });

  app.route({
    method: api.approve.method,
    url: api.approve.path,
    schema: schemaOf(api.approve),
    handler: (req) =>
      request(nc, subjects.op.approve, rpcs.opApprove, { id: req.params.id }, decide),
  });

  app.route({
    method: api.deny.method,
    url: api.deny.path,
    schema: schemaOf(api.deny),
    handler: (req) =>
      request(
        nc,
        subjects.op.deny,
        rpcs.opDeny,
        req.body.reason === undefined
          ? { id: req.params.id }
          : { id: req.params.id, reason: req.body.reason },
        decide,
      ),
  });
}
