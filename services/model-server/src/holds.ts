/** Answers parked by a `hold` rule until `POST /_release`. */

/**
 * A gate held answers wait at. Each waiter is freed by {@link release} or gives up when its
 * signal aborts (its client went away); either way it leaves the gate, so {@link size} counts
 * only answers still waiting.
 */
export class HoldGate {
  readonly #waiters = new Set<() => void>();

  /** How many answers are waiting. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Resolves true when released, false if `signal` aborts first (or already has). */
  wait(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (released: boolean): void => {
        this.#waiters.delete(onRelease);
        signal.removeEventListener("abort", onAbort);
        resolve(released);
      };
      const onRelease = (): void => done(true);
      const onAbort = (): void => done(false);
      this.#waiters.add(onRelease);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Frees every waiting answer; returns how many. */
  release(): number {
    const freed = [...this.#waiters];
    for (const free of freed) free();
    return freed.length;
  }
}
