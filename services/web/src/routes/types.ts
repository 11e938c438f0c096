import type { IncomingMessage, ServerResponse } from "node:http";
import type { ZodTypeProvider } from "@fastify/type-provider-zod";
import type { Clock, Logger } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance, RawServerDefault } from "fastify";
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
  /** Milliseconds to wait for a NATS reply. */
  timeoutMs: number;
  /** The app's open SSE streams. */
  hub: SseHub;
  /** Stamps the events the web makes itself. */
  clock: Clock;
}
