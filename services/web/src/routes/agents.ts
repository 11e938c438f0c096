import { request, rpcs, subjects } from "@hyperhive/shared";
import { type AgentAction, api } from "../wire.js";
import { type RouteDeps, schemaOf, type WebApp } from "./types.js";

/** c0re's subject for each operator action on an agent's process. */
const ACTION_SUBJECT: Readonly<Record<AgentAction, string>> = {
  start: subjects.op.agentStart,
  stop: subjects.op.agentStop,
  restart: subjects.op.agentRestart,
  destroy: subjects.op.agentDestroy,
};

/**
 * What the operator does to agents: lifecycle and tombstones (c0re), restart-all (c0re), and the
 * per-agent controls of the turn loop (`hive.op.ctl.<agent>.*`, answered by the agent's harness).
 * Each route is one NATS request; its body and reply are checked against the wire's schemas.
 */
export function agentRoutes(app: WebApp, deps: RouteDeps): void {
  const { nc, closing: signal } = deps;
  const action = { timeoutMs: deps.actionTimeoutMs, signal };

  app.route({
    method: api.agentAction.method,
    url: api.agentAction.path,
    schema: schemaOf(api.agentAction),
    handler: (req) =>
      request(
        nc,
        ACTION_SUBJECT[req.params.action],
        rpcs.opAgentLifecycle,
        { name: req.params.name },
        action,
      ),
  });

  app.route({
    method: api.purge.method,
    url: api.purge.path,
    schema: schemaOf(api.purge),
    handler: (req) =>
      request(
        nc,
        subjects.op.agentPurge,
        rpcs.opPurge,
        { name: req.params.name, confirm: req.body.confirm },
        action,
      ),
  });

  app.route({
    method: api.restartAll.method,
    url: api.restartAll.path,
    schema: { body: api.restartAll.body, response: { 200: api.restartAll.reply } },
    handler: () =>
      request(
        nc,
        subjects.op.restartAll,
        rpcs.opRestartAll,
        {},
        { timeoutMs: deps.restartAllTimeoutMs, signal },
      ),
  });

  app.route({
    method: api.model.method,
    url: api.model.path,
    schema: schemaOf(api.model),
    handler: (req) =>
      request(nc, subjects.op.ctl.model(req.params.name), rpcs.ctlModel, req.body, action),
  });

  app.route({
    method: api.compact.method,
    url: api.compact.path,
    schema: schemaOf(api.compact),
    handler: (req) =>
      request(nc, subjects.op.ctl.compact(req.params.name), rpcs.ctlCompact, {}, action),
  });

  app.route({
    method: api.newSession.method,
    url: api.newSession.path,
    schema: schemaOf(api.newSession),
    handler: (req) =>
      request(nc, subjects.op.ctl.newSession(req.params.name), rpcs.ctlNewSession, {}, action),
  });

  app.route({
    method: api.cancel.method,
    url: api.cancel.path,
    schema: schemaOf(api.cancel),
    handler: (req) =>
      request(nc, subjects.op.ctl.cancel(req.params.name), rpcs.ctlCancel, {}, action),
  });
}
