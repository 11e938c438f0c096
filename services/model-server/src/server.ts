/** The running server: the app built over fresh state, listening on a TCP port. */
import { type Clock, createLogger, type Logger } from "@hyperhive/shared";
import { buildApp } from "./app.js";
import { ScriptEngine } from "./engine.js";
import { HoldGate } from "./holds.js";
import { RequestLog, type RequestLogEntry } from "./request-log.js";
import { DEFAULT_SCRIPT, parseScript } from "./script.js";

/** Options of {@link startModelServer}. */
export interface ModelServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Initial script (validated; a bad one throws a ZodError); default DEFAULT_SCRIPT. */
  script?: unknown;
  /** Logger; default a silent one. */
  log?: Logger;
  /** Largest request body accepted; larger ones get 413. Default `MAX_BODY_BYTES` (32 MiB). */
  maxBodyBytes?: number;
  /** Time for delays and arrival stamps; default the system clock. */
  clock?: Clock;
}

/** A running model server. */
export interface ModelServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (use as ANTHROPIC_BASE_URL). */
  url: string;
  /** Replaces the script (validated; throws ZodError, keeping the old one) and resets rule counters. */
  setScript(script: unknown): void;
  /** A copy of the request log. */
  requests(): RequestLogEntry[];
  /** Releases every held response; returns how many. */
  release(): number;
  /** Stops listening and ends open connections (held answers are dropped). Idempotent. */
  close(): Promise<void>;
}

/** Starts the scripted Messages API server on a TCP port. */
export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const log = opts.log ?? createLogger("model-server", { level: "silent" });
  const engine = new ScriptEngine({ rules: parseScript(opts.script ?? DEFAULT_SCRIPT) });
  const requests = new RequestLog();
  const holds = new HoldGate();
  const app = buildApp({
    engine,
    requests,
    holds,
    log,
    maxBodyBytes: opts.maxBodyBytes,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  });
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" });
  const addr = app.server.address();
  if (addr === null || typeof addr === "string") {
    await app.close();
    throw new Error(`model server: expected a TCP address, got ${String(addr)}`);
  }
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url }, "model server listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    setScript: (script) => engine.load(parseScript(script)),
    requests: () => requests.list(),
    release: () => holds.release(),
    close: () => {
      closing ??= app.close();
      return closing;
    },
  };
}
