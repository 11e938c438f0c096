import { request, rpcs, subjects } from "@hyperhive/shared";
import { api } from "../wire.js";
import { type RouteDeps, schemaOf, type WebApp } from "./types.js";

/**
 * Reminders (the scheduler): the list, each agent's counts, and the operator's hand — set one
 * for an agent, cancel one, try a failing one again now. Each route is one NATS request on
 * `hive.op.*`; its body and reply are checked against the wire's schemas. A refusal for a limit
 * (`limit_exceeded`) is a 429 whose message says the limit. Every change also comes as a
 * `reminder` event on `/api/events`.
 */
export function reminderRoutes(app: WebApp, { nc, timeoutMs }: RouteDeps): void {
  const ask = { timeoutMs };

  app.route({
    method: api.reminders.method,
    url: api.reminders.path,
    schema: { querystring: api.reminders.query, response: { 200: api.reminders.reply } },
    handler: (req) => request(nc, subjects.op.reminders, rpcs.opReminders, req.query, ask),
  });

  app.route({
    method: api.reminderCounts.method,
    url: api.reminderCounts.path,
    schema: {
      querystring: api.reminderCounts.query,
      response: { 200: api.reminderCounts.reply },
    },
    handler: () => request(nc, subjects.op.reminderCounts, rpcs.opReminderCounts, {}, ask),
  });

  app.route({
    method: api.remind.method,
    url: api.remind.path,
    schema: schemaOf(api.remind),
    handler: (req) =>
      request(nc, subjects.op.remind, rpcs.opRemind, { agent: req.params.name, ...req.body }, ask),
  });

  app.route({
    method: api.cancelReminder.method,
    url: api.cancelReminder.path,
    schema: schemaOf(api.cancelReminder),
    handler: (req) =>
      request(nc, subjects.op.cancelReminder, rpcs.opCancelReminder, { id: req.params.id }, ask),
  });

  app.route({
    method: api.retryReminder.method,
    url: api.retryReminder.path,
    schema: schemaOf(api.retryReminder),
    handler: (req) =>
      request(nc, subjects.op.retryReminder, rpcs.opRetryReminder, { id: req.params.id }, ask),
  });
}
