import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyHelmet from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "@fastify/type-provider-zod";
import { type Clock, ErrorCode, HiveError, type Logger, systemClock } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { isApiPath, makeAuthHook } from "./auth.js";
import { toHttpError } from "./errors.js";
import { errorPage, UI_SCRIPT } from "./html.js";
import { TurnHistory } from "./live-history.js";
import { agentRoutes } from "./routes/agents.js";
import { apiRoutes } from "./routes/api.js";
import { approvalRoutes } from "./routes/approvals.js";
import { eventRoutes } from "./routes/events.js";
import { fileRoutes } from "./routes/files.js";
import { flowRoutes } from "./routes/flow.js";
import { pageRoutes } from "./routes/pages.js";
import { questionRoutes } from "./routes/questions.js";
import { reminderRoutes } from "./routes/reminders.js";
import type { RouteDeps, WebServer } from "./routes/types.js";
import { trackQuietSockets } from "./sockets.js";
import { SseHub } from "./sse.js";
import { fixedToken, type TokenSource } from "./token.js";

/** What {@link buildApp} needs. */
export interface WebAppOptions {
  /** The NATS connection every read and action goes through; the caller drains it. */
  nc: NatsConnection;
  /** The operator token every route requires: fixed, or a {@link TokenSource} that may rotate. */
  token: string | TokenSource;
  log: Logger;
  /** Milliseconds to wait for the reply to a read or a send; default 5000. */
  requestTimeoutMs?: number;
  /**
   * Milliseconds to wait for the reply to an action (start, stop, restart, destroy, purge,
   * approve, deny, the agent controls); default 30000.
   */
  actionTimeoutMs?: number;
  /** Milliseconds to wait for restart-all; default 180000. */
  restartAllTimeoutMs?: number;
  /** Milliseconds between SSE heartbeat comments; default 15000. */
  heartbeatMs?: number;
  /** Time for heartbeats and event stamps; default the system clock (tests pass a TestClock). */
  clock?: Clock;
  /** The built UI (`app.js`, `style.css`); default the package's `dist/ui`. */
  uiDir?: string;
}

/**
 * The bundled UI, as `npm run build` leaves it: `dist/ui` of this package. This module runs from
 * `dist/src/` when built and from `src/` under the tests.
 */
export const DEFAULT_UI_DIR = fileURLToPath(
  new URL(import.meta.url.includes("/dist/src/") ? "../ui/" : "../dist/ui/", import.meta.url),
);

/** The Content-Security-Policy of every response: no inline script or style, nothing third-party. */
const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * Builds the dashboard app (not listening): helmet's security headers, then the cookie parser,
 * then the token check, on every request (known routes, assets and 404s alike); zod schemas
 * validate each route's request and its 200 reply; one error handler answers the error catalog.
 *
 * Close sequence (`app.close()`): fastify stops taking requests; the `preClose` hook ends every
 * SSE stream (their NATS subscriptions go with them), destroys sockets with no request in
 * flight and gives up the actions still waiting for their reply (they answer 503: a restart-all
 * may wait minutes); in-flight requests finish and the server closes; then the `onClose` hooks
 * run (the token-change listener comes off, the live turns' history unsubscribes). The NATS
 * connection belongs to the caller, who drains it after.
 *
 * The app subscribes to `hive.live.*` once, before it is returned, and keeps every agent's recent
 * turns (`TurnHistory`) for the agent pages.
 */
export async function buildApp(opts: WebAppOptions): Promise<WebServer> {
  const { nc, log } = opts;
  const tokens = typeof opts.token === "string" ? fixedToken(opts.token) : opts.token;
  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
  const script = join(uiDir, UI_SCRIPT);
  if (!existsSync(script)) {
    throw new Error(`the dashboard UI is not built (no ${script}): run npm run build`);
  }
  const clock = opts.clock ?? systemClock;
  const hub = new SseHub({
    clock,
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
  });

  const root = Fastify({
    loggerInstance: log,
    // Request logs would carry `?token=` URLs; errors are logged by the error handler instead.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.decorate("sseHub", hub);

  // Plugins are awaited so their onRequest hooks run before the token check added below.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // The token may be in a page URL for one redirect; never send it anywhere else.
    referrerPolicy: { policy: "no-referrer" },
    frameguard: { action: "deny" },
    // Plain http on loopback: HSTS would not apply, and would pin every port of the host if it did.
    strictTransportSecurity: false,
  });
  await app.register(fastifyCookie);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onRequest", makeAuthHook(tokens));

  const sockets = trackQuietSockets(app.server);
  // Actions waiting for a reply (a restart-all takes minutes) are given up, not waited out.
  const closing = new AbortController();
  app.addHook("preClose", async () => {
    hub.endAll();
    sockets.closing();
    closing.abort(new Error("the dashboard is closing"));
  });
  // A rotated token ends the streams opened with the old one; their reconnect then needs the new.
  const offTokenChange = tokens.onChange(() => hub.endAll());
  app.addHook("onClose", async () => offTokenChange());

  const sendError = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const { status, body } = toHttpError(e);
    if (status >= 500) req.log.warn({ err: e, url: req.routeOptions.url }, "request failed");
    reply.code(status);
    if (isApiPath(req.url)) return reply.send(body);
    return reply.type("text/html; charset=utf-8").send(errorPage(status, body.error.message));
  };
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new HiveError(ErrorCode.NotFound, "no such page")),
  );

  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: "/assets/",
    // Exactly the files the build made, found once; anything else is the 404 handler's.
    wildcard: false,
    index: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (reply) => {
      reply.header("cache-control", "no-cache");
    },
  });

  // One subscription for the whole app: every agent page is fed from it, history first.
  const turns = new TurnHistory({ nc, log });
  app.decorate("turnHistory", turns);
  app.addHook("onClose", async () => turns.stop());
  await turns.start();

  const deps: RouteDeps = {
    nc,
    log,
    timeoutMs: opts.requestTimeoutMs ?? 5000,
    actionTimeoutMs: opts.actionTimeoutMs ?? 30_000,
    restartAllTimeoutMs: opts.restartAllTimeoutMs ?? 180_000,
    closing: closing.signal,
    hub,
    clock,
    turns,
  };
  pageRoutes(app, deps);
  apiRoutes(app, deps);
  agentRoutes(app, deps);
  approvalRoutes(app, deps);
  questionRoutes(app, deps);
  fileRoutes(app, deps);
  reminderRoutes(app, deps);
  eventRoutes(app, deps);
  flowRoutes(app, deps);
  return root;
}

export type { WebServer } from "./routes/types.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's open SSE streams. */
    sseHub: SseHub;
    /** Every agent's recent turns, kept from `hive.live.*`. */
    turnHistory: TurnHistory;
  }
}
