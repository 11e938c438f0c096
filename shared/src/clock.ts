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
  /**
   * Milliseconds from now until this clock reads `at` (unix ms), as finely as it knows: `now()`
   * is whole milliseconds, so `at - now()` overshoots by up to one (a timer armed with it fires
   * that much late on average).
   */
  msUntil(at: number): number;
}

/** Cancels a scheduled call; calling it after the call ran, or twice, does nothing. */
export type Cancel = () => void;

/**
 * How far the high-resolution clock (`timeOrigin + performance.now()`) runs ahead of `Date.now()`
 * at the start of a wall-clock millisecond: the least lead seen so far (each reading is it plus
 * that millisecond's fraction). Learnt from the readings themselves, no waiting; until a reading
 * near a millisecond's start comes, fractions are underestimated, so timers fire late, never early.
 */
let lead: number | undefined;

/** The machine's clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  msUntil(at) {
    const whole = Date.now();
    const ahead = performance.timeOrigin + performance.now() - whole;
    // A lead a millisecond or more short of this one: the wall clock was slewed or set; relearn.
    if (lead === undefined || ahead < lead || ahead - lead >= 1) lead = ahead;
    return at - whole - (ahead - lead);
  },
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
