/**
 * The HTTP side: a fastify app (not listening) serving the Messages API and the control API over
 * one engine, request log and hold gate.
 */
import { finished } from "node:stream/promises";
import { describeZodError, systemClock } from "@hyperhive/shared";
import Fastify, { errorCodes, type FastifyRequest } from "fastify";
import type { z } from "zod";
import { controlApi } from "./control-api.js";
import { BadBodyError } from "./errors.js";
import { messagesApi, notFound } from "./messages-api.js";
import type { AppDeps, RouteDeps, ZodApp, ZodTypeProvider } from "./types.js";

/** Default request body limit: the real Messages API's (32 MiB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Longest wait for the rest of a refused body; a client that stalls gets its 413 after it. */
const DRAIN_MS = 5000;

/**
 * Reads the rest of a refused body before answering: a client that writes its whole body before
 * reading (as a plain socket client does) would otherwise get EPIPE instead of the 413.
 */
async function drain(req: FastifyRequest): Promise<void> {
  if (req.raw.readableEnded) return;
  req.raw.resume();
  // Ends at the body's end, the client giving up (nothing left to answer then) or the deadline.
  await finished(req.raw, { signal: AbortSignal.timeout(DRAIN_MS) }).catch(() => undefined);
}

/**
 * Builds the app. Every body is read as JSON whatever its content type (claude sends
 * `application/json`, fetch with a string body `text/plain`), up to `maxBodyBytes`.
 *
 * Close sequence (`app.close()`): routes stop taking requests, every connection is destroyed
 * (held and delayed answers are dropped: their clients see the connection close, as when a real
 * server goes away), then the server closes.
 */
export function buildApp(deps: AppDeps): ZodApp {
  const d: RouteDeps = {
    ...deps,
    maxBodyBytes: deps.maxBodyBytes ?? MAX_BODY_BYTES,
    clock: deps.clock ?? systemClock,
  };
  const app = Fastify({
    // Our own logger logs what matters; fastify's per-request lines would drown it.
    logger: false,
    bodyLimit: d.maxBodyBytes,
    // A held answer is an open request: without this, close() would wait for its release.
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler<z.ZodType>(({ schema }) => (data: unknown) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: new BadBodyError(describeZodError(r.error)) };
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    // An empty body is no body: the route's schema says whether it needs one.
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new BadBodyError(`body is not JSON (${e instanceof Error ? e.message : String(e)})`));
    }
  });

  // onError runs before the scope's error handler writes the answer.
  app.addHook("onError", async (req, _reply, err) => {
    if (err instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE) await drain(req);
  });
  app.setNotFoundHandler(notFound(d));
  // Each API is a scope with its own error handler, so each answers failures in its own shape.
  app.register(async (scope) => messagesApi(scope, d));
  app.register(async (scope) => controlApi(scope, d));
  return app;
}
