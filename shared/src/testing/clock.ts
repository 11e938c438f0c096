import type { Cancel, Clock } from "../clock.js";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when the test says so. `advance(ms)` runs every call that falls due,
 * in time order, letting promise callbacks settle between them, so code that sleeps, retries or
 * leases on this clock behaves as if that much time had passed, at once.
 */
export class TestClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #pending = new Set<Pending>();

  /** Starts at `start` (unix ms), by default the real time now. */
  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  msUntil(at: number): number {
    return at - this.#now;
  }

  schedule(ms: number, fn: () => void): Cancel {
    const p: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#pending.add(p);
    return () => {
      this.#pending.delete(p);
    };
  }

  /** Calls scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Milliseconds until the next scheduled call, or undefined when none is. */
  get nextIn(): number | undefined {
    const next = this.#next();
    return next === undefined ? undefined : next.at - this.#now;
  }

  /**
   * Moves time forward by `ms`, running each call due on the way at its own instant (calls they
   * schedule in turn run too, if due). Resolves once everything due has run and settled.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (let next = this.#next(); next && next.at <= until; next = this.#next()) {
      this.#pending.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  #next(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }
}

/** Lets queued promise callbacks and I/O callbacks that are ready run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
