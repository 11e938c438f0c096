/** Types the app factory and its route modules share. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock, Logger } from "@hyperhive/shared";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyTypeProvider,
  RawServerDefault,
} from "fastify";
import type { z } from "zod";
import type { ScriptEngine } from "./engine.js";
import type { HoldGate } from "./holds.js";
import type { RequestLog } from "./request-log.js";

/** What `buildApp` needs. */
export interface AppDeps {
  /** Decides every Messages answer; `PUT /_script` loads new rules into it. */
  engine: ScriptEngine;
  /** Where every request is recorded as it arrives. */
  requests: RequestLog;
  /** Where held answers wait for `POST /_release`. */
  holds: HoldGate;
  /** Where the server says what it does (holds, refusals, failures). */
  log: Logger;
  /** Largest request body accepted; larger ones get 413. Default `MAX_BODY_BYTES` (32 MiB). */
  maxBodyBytes?: number;
  /** Time for delays and arrival stamps; default the system clock (tests pass a TestClock). */
  clock?: Clock;
}

/** {@link AppDeps} with the defaults filled in: what the route modules get. */
export type RouteDeps = Required<AppDeps>;

/**
 * Route schemas are zod schemas: the validator parses with them (defaults and transforms
 * applied), and a route's body type is the schema's output type.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

/** A fastify instance whose routes take zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
