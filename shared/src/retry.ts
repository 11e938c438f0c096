import { z } from "zod";
import { type Clock, sleep } from "./clock.js";

/**
 * How a failing operation is retried, as validated data (one policy object instead of a
 * backoff formula at each call site): the n-th retry waits
 * `min(initialMs * factor^(n-1), maxMs)`; after `maxAttempts` tries in all it gives up.
 */
export const RetryPolicy = z.strictObject({
  /** Pause before the first retry, ms. */
  initialMs: z.number().nonnegative(),
  /** Each further pause is this many times the previous one (1 = constant). */
  factor: z.number().min(1),
  /** Longest pause, ms. */
  maxMs: z.number().nonnegative(),
  /** Tries in all, the first included; absent means no limit. */
  maxAttempts: z.number().int().positive().optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** Validates a policy at the place it is defined (a bad constant fails at start-up). */
export function retryPolicy(p: RetryPolicy): RetryPolicy {
  return RetryPolicy.parse(p);
}

/** The pause before retry number `retry` (1 = after the first failure), ms. */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  const n = Math.max(1, retry);
  return Math.min(policy.initialMs * policy.factor ** (n - 1), policy.maxMs);
}

/** Whether another try may follow `attempts` failed ones. */
export function mayRetry(policy: RetryPolicy, attempts: number): boolean {
  return policy.maxAttempts === undefined || attempts < policy.maxAttempts;
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock: Clock;
  /** Stops retrying (the last error is thrown) once aborted; also cuts a pause short. */
  signal?: AbortSignal;
  /** Whether this error is worth another try; default: every error is. */
  retryable?: (e: unknown) => boolean;
  /** Told about each failure that will be retried, with the pause before the retry. */
  onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, the policy gives up, the error is not retryable, or the signal aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const again = mayRetry(o.policy, attempt) && !o.signal?.aborted && (o.retryable?.(e) ?? true);
      if (!again) throw e;
      const ms = retryDelay(o.policy, attempt);
      o.onRetry?.(e, attempt, ms);
      await sleep(o.clock, ms, o.signal);
      if (o.signal?.aborted) throw e;
    }
  }
}
