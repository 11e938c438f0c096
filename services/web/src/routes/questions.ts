import { request, rpcs, subjects } from "@hyperhive/shared";
import { api } from "../wire.js";
import { type RouteDeps, schemaOf, type WebApp } from "./types.js";

/**
 * Questions and open threads (c0re): the questions put to the operator, the operator's answer or
 * cancel, and what is still pending against an agent. Answering and cancelling only record a
 * decision and send one message, so they wait as long as a read. Every change also comes as a
 * `question` event on `/api/events`.
 */
export function questionRoutes(app: WebApp, { nc, timeoutMs }: RouteDeps): void {
  app.route({
    method: api.questions.method,
    url: api.questions.path,
    schema: { querystring: api.questions.query, response: { 200: api.questions.reply } },
    handler: (req) =>
      request(nc, subjects.op.questions, rpcs.opQuestions, req.query, { timeoutMs }),
  });

  app.route({
    method: api.answer.method,
    url: api.answer.path,
    schema: schemaOf(api.answer),
    handler: (req) =>
      request(
        nc,
        subjects.op.answer,
        rpcs.opAnswer,
        { id: req.params.id, ...req.body },
        {
          timeoutMs,
        },
      ),
  });

  app.route({
    method: api.cancelQuestion.method,
    url: api.cancelQuestion.path,
    schema: schemaOf(api.cancelQuestion),
    handler: (req) =>
      request(
        nc,
        subjects.op.cancelQuestion,
        rpcs.opCancelQuestion,
        { id: req.params.id },
        {
          timeoutMs,
        },
      ),
  });

  app.route({
    method: api.threads.method,
    url: api.threads.path,
    schema: { querystring: api.threads.query, response: { 200: api.threads.reply } },
    handler: (req) => request(nc, subjects.op.threads, rpcs.opThreads, req.query, { timeoutMs }),
  });
}
