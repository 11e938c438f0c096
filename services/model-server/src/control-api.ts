/**
 * The control API tests drive the server with: `PUT /_script`, `GET|DELETE /_requests`,
 * `POST /_release`, `GET /_health`. Errors in the hive's wire shape `{error: {code, message,
 * retryable}}`.
 */
import { z } from "zod";
import { bodyLimit, toControlError } from "./errors.js";
import { Script } from "./script.js";
import type { RouteDeps, ZodApp } from "./types.js";

/** Body of the requests that take none: fastify hands a missing or empty body to the schema as null. */
const NoBody = z.null({ error: "this request takes no body" });

/** Registers the control API routes and their error handler on `app` (a scope of its own). */
export function controlApi(app: ZodApp, d: RouteDeps): void {
  const { engine, requests, holds, log } = d;

  app.setErrorHandler(async (err, req, reply) => {
    const { status, error } = toControlError(
      err,
      bodyLimit(d.maxBodyBytes, req.headers["content-length"]),
    );
    if (status >= 500) log.error({ err }, "control request failed");
    return reply.code(status).send({ error });
  });

  app.put("/_script", { schema: { body: Script } }, async (req) => {
    engine.load(req.body);
    log.info({ rules: engine.ruleCount }, "script replaced");
    return { ok: true, rules: engine.ruleCount };
  });

  app.get("/_requests", async () => requests.list());

  app.delete("/_requests", { schema: { body: NoBody } }, async () => {
    requests.clear();
    return { ok: true };
  });

  app.post("/_release", { schema: { body: NoBody } }, async () => ({ released: holds.release() }));

  app.get("/_health", async () => ({ ok: true, rules: engine.ruleCount, held: holds.size }));
}
