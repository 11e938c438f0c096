/**
 * The Messages API routes: `POST /v1/messages` (answers decided by the engine, streamed as SSE or
 * one JSON message), `POST /v1/messages/count_tokens`, and Anthropic-shaped errors.
 */
import { sleep } from "@hyperhive/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  type Answer,
  estimateTokens,
  MessagesRequest,
  messageBody,
  newRequestId,
  sseBody,
} from "./anthropic.js";
import { ApiError, ApiErrorType, bodyLimit, toApiError } from "./errors.js";
import { otherEntry, type RequestMeta } from "./request-log.js";
import type { RouteDeps, ZodApp } from "./types.js";

/** The request's path without its query string (claude sends `?beta=true`). */
function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf("?");
  return q === -1 ? req.url : req.url.slice(0, q);
}

/** Where and when a request came, for its log entry. */
function metaOf(req: FastifyRequest, now: Date): RequestMeta {
  return { time: now.toISOString(), method: req.method, path: pathOf(req) };
}

/** Answers with an API error: its status, `x-should-retry: false` unless it may be retried. */
function sendApiError(reply: FastifyReply, e: ApiError): FastifyReply {
  reply.code(e.status).header("request-id", newRequestId());
  // Without this claude retries even a 401 ten times with exponential backoff.
  if (!e.retry) reply.header("x-should-retry", "false");
  return reply.send(e.body());
}

function sendAnswer(reply: FastifyReply, a: Answer, stream: boolean): FastifyReply {
  reply.header("request-id", `req_${a.id}`);
  if (!stream) return reply.send(messageBody(a));
  return reply
    .type("text/event-stream; charset=utf-8")
    .header("cache-control", "no-cache")
    .send(sseBody(a));
}

/** Aborts when the client goes away before its answer is written. */
function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** The not-found handler: an Anthropic 404 for any other method and path. */
export function notFound(d: RouteDeps): (req: FastifyRequest, reply: FastifyReply) => void {
  return (req, reply) => {
    d.log.warn({ method: req.method, url: req.url }, "unknown endpoint");
    const message = `no such endpoint: ${req.method} ${pathOf(req)}`;
    sendApiError(reply, ApiError.of(ApiErrorType.NotFound, message));
  };
}

/** Registers the Messages API routes and their error handler on `app` (a scope of its own). */
export function messagesApi(app: ZodApp, d: RouteDeps): void {
  const { engine, requests, holds, log } = d;

  app.setErrorHandler(async (err, req, reply) => {
    const e = toApiError(err, bodyLimit(d.maxBodyBytes, req.headers["content-length"]));
    if (e.status >= 500) log.error({ err }, "request failed");
    else log.warn({ url: req.url, status: e.status, why: e.message }, "request refused");
    return sendApiError(reply, e);
  });

  app.post("/v1/messages", { schema: { body: MessagesRequest } }, async (req, reply) => {
    const decision = engine.decide(req.body, metaOf(req, new Date(d.clock.now())));
    const { entry, outcome } = decision;
    // Logged on arrival, so a test can wait for a held request to show up.
    requests.add(entry);
    if (decision.hold || decision.delayMs > 0) {
      const gone = clientGone(reply);
      if (decision.hold) {
        log.info({ rule: entry.rule }, "holding response");
        if (!(await holds.wait(gone))) {
          log.info({ rule: entry.rule }, "client went away while held");
          return reply.hijack();
        }
      }
      if (decision.delayMs > 0) await sleep(d.clock, decision.delayMs, gone);
      if (gone.aborted) {
        log.info({ rule: entry.rule }, "client went away during the delay");
        return reply.hijack();
      }
    }
    if (outcome.type === "error") {
      const { status, type, message, retry } = outcome.error;
      log.info({ rule: entry.rule, status }, "answering with an API error");
      return sendApiError(reply, new ApiError(status, type, message, { retry }));
    }
    log.debug(
      { rule: entry.rule, kind: entry.kind, stop: outcome.answer.stop_reason },
      "answering",
    );
    return sendAnswer(reply, outcome.answer, outcome.stream);
  });

  // claude 2.1.x does not call it (see the README); answered for other clients of the server.
  app.post("/v1/messages/count_tokens", async (req) => {
    requests.add(otherEntry(metaOf(req, new Date(d.clock.now()))));
    return { input_tokens: estimateTokens(JSON.stringify(req.body ?? "").length) };
  });
}
