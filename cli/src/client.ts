import {
  connectNats,
  ErrorCode,
  HiveError,
  type NatsConnection,
  type RpcSpec,
  request,
  retry,
  retryPolicy,
  systemClock,
} from "@hyperhive/shared";
import { errors } from "@nats-io/transport-node";
import type { z } from "zod";
import { readRuntime } from "./runtime.js";

/**
 * The CLI as a client of a running hive: it finds the hive's NATS in `<root>/hive.json`, asks as
 * the operator, and tries again for a few seconds when the answer could come a moment later.
 */

/** 0.2 s doubling to 2 s, 6 tries: a service restarting is back within it. */
const REQUEST_RETRY = retryPolicy({ initialMs: 200, factor: 2, maxMs: 2000, maxAttempts: 6 });

/** How long the hive may take to answer, by what is asked. */
export const TIMEOUTS = {
  /** Reads, and the controls a harness answers at once. */
  quick: 5_000,
  /** Stopping or starting an agent (a stop grace, then a harness coming up). */
  lifecycle: 60_000,
  /** An approval carried out: an agent created and started, or restarted with a new config. */
  approve: 90_000,
  /** Every agent restarted, the manager first and waited for until idle (c0re's deadline 120 s). */
  restartAll: 180_000,
} as const;

/**
 * Which failures another try may mend:
 * - `transient`: any failure the wire calls retryable (nobody answering, no answer in time, an
 *   internal error) — for reads and for writes that are idempotent;
 * - `unheard`: only when nobody took the request (no responders), so an action that may have
 *   been carried out is never carried out twice;
 * - `never`: one try.
 */
export type RetryOn = "transient" | "unheard" | "never";

/** Whether a failed request reached nobody: no service subscribes to its subject right now. */
export function unheard(e: unknown): boolean {
  if (!HiveError.is(e, ErrorCode.Unavailable)) return false;
  const c = e.cause;
  return (
    c instanceof errors.NoRespondersError ||
    (c instanceof errors.RequestError && c.isNoResponders())
  );
}

export interface AskOptions {
  /** Default `transient`. */
  retryOn?: RetryOn;
  /** Default {@link TIMEOUTS}.quick. */
  timeoutMs?: number;
}

/** One request, validated both ways, tried again as `retryOn` allows. */
export function ask<Req extends z.ZodType, Res extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  spec: RpcSpec<Req, Res>,
  payload: z.input<Req>,
  o: AskOptions = {},
): Promise<z.infer<Res>> {
  const retryOn = o.retryOn ?? "transient";
  return retry(
    () => request(nc, subject, spec, payload, { timeoutMs: o.timeoutMs ?? TIMEOUTS.quick }),
    {
      policy: REQUEST_RETRY,
      clock: systemClock,
      retryable: (e) => {
        if (retryOn === "never") return false;
        return retryOn === "transient" ? e instanceof HiveError && e.retryable : unheard(e);
      },
    },
  );
}

/** Connects to the hive at `root`, runs `fn`, closes. No hive, or its NATS silent: one clear error. */
export async function withHive<T>(
  root: string,
  fn: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const rt = readRuntime(root);
  let nc: NatsConnection;
  try {
    // As the operator: hive.op.* and the hive's events, nothing an agent or service may do.
    nc = await connectNats({ url: rt.nats_url, name: "hive-cli", credsFile: rt.nats_creds });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new HiveError(
      ErrorCode.Unavailable,
      `cannot reach the hive's NATS at ${rt.nats_url} (${why}); is its hive up (pid ${rt.pid}) still running?`,
    );
  }
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/**
 * Validates the payload (a ZodError: the arguments are wrong, and nothing is sent), then connects
 * and asks once.
 */
export function askHive<Req extends z.ZodType, Res extends z.ZodType>(
  root: string,
  subject: string,
  spec: RpcSpec<Req, Res>,
  payload: z.input<Req>,
  o: AskOptions = {},
): Promise<z.infer<Res>> {
  spec.request.parse(payload);
  return withHive(root, (nc) => ask(nc, subject, spec, payload, o));
}
