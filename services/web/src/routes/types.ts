import type { IncomingMessage, ServerResponse } from "node:http";
import type { ZodTypeProvider } from "@fastify/type-provider-zod";
import type { Clock, Logger } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance, RawServerDefault } from "fastify";
import type { TurnHistory } from "../live-history.js";
import type { SseHub } from "../sse.js";

/** The app {@link buildApp} returns: fastify on node:http with the service's pino logger. */
export type WebServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

/** The app as routes see it: a route's zod schemas type its request and its 200 reply. */
export type WebApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  Logger,
  ZodTypeProvider
>;

/** What the route modules need. */
export interface RouteDeps {
  /** Every read and action goes through it. */
  nc: NatsConnection;
  log: Logger;
  /** Milliseconds to wait for the reply to a read or a message send. */
  timeoutMs: number;
  /**
   * Milliseconds to wait for the reply to an action that may stop or start a process (lifecycle,
   * purge, approve, the agent's controls): a stop alone may take its 5 s grace.
   */
  actionTimeoutMs: number;
  /** Milliseconds to wait for restart-all: the manager must go idle before the others restart. */
  restartAllTimeoutMs: number;
  /** Aborted when the app starts closing: a long wait for a reply is given up (503). */
  closing: AbortSignal;
  /** The app's open SSE streams. */
  hub: SseHub;
  /** Stamps the events the web makes itself. */
  clock: Clock;
  /** Every agent's recent turns, from the app's one subscription to `hive.live.*`. */
  turns: TurnHistory;
}

/**
 * The fastify schema of a POST route of the wire: its params, body and the reply of a 200. The
 * route's zod schemas type the handler through the type provider.
 */
export function schemaOf<P, B, R>(route: { params: P; body: B; reply: R }) {
  return { params: route.params, body: route.body, response: { 200: route.reply } };
}
