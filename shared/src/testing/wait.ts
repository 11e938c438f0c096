import { setTimeout as delay } from "node:timers/promises";

export interface WaitOptions {
  /** Give up after this many ms; default 10000. */
  timeoutMs?: number;
  /** Re-check interval in ms; default 25. */
  intervalMs?: number;
  /** Said in the error when the deadline passes. */
  what?: string;
}

/** Polls `cond` until it returns a truthy value (which is returned) or the deadline passes. */
export async function waitUntil<T>(
  cond: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${opts.what ?? "condition"}`,
      );
    }
    await delay(opts.intervalMs ?? 25);
  }
}

/** Rejects if `p` does not settle within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
