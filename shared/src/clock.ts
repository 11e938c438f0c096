/**
 * Time as a service sees it: the current instant and timers. Every service takes a Clock through
 * its options (`{nc, db, log, clock}`), so timer-heavy logic (lease expiry, backoffs, supervision,
 * login retries) runs in tests on a {@link TestClock} that the test moves forward, instead of
 * waiting real seconds.
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock; returns a function that cancels it. */
  schedule(ms: number, fn: () => void): Cancel;
}

/** Cancels a scheduled call; calling it after the call ran, or twice, does nothing. */
export type Cancel = () => void;

/** The machine's clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/**
 * Resolves after `ms` on `clock`; with a signal, resolves early (never rejects) once it aborts,
 * so a stopping loop can simply check its own state after the sleep.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const cancel = clock.schedule(ms, done);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Calls `fn` every `ms` on `clock` until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): Cancel {
  let cancel: Cancel = () => {};
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    cancel = clock.schedule(ms, tick);
    fn();
  };
  cancel = clock.schedule(ms, tick);
  return () => {
    stopped = true;
    cancel();
  };
}
