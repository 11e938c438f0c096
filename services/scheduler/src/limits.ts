import { type Clock, ErrorCode, HiveError } from "@hyperhive/shared";

/** Per-agent limits on reminders. */
export interface Limits {
  /** Pending reminders an agent may have at once (whoever set them). */
  maxPending: number;
  /** Reminders an agent may set for itself per minute, on average... */
  ratePerMinute: number;
  /** ...and at once after a quiet spell (the bucket's size). */
  burst: number;
}

export const DEFAULT_LIMITS: Limits = { maxPending: 100, ratePerMinute: 10, burst: 20 };

/** Buckets kept before the full ones (which say nothing a new bucket would not) are dropped. */
const PRUNE_AT = 1024;

interface Bucket {
  tokens: number;
  /** Unix ms the tokens were counted at. */
  at: number;
}

/**
 * A token bucket per agent: `burst` tokens, refilled at `ratePerMinute`; setting a reminder takes
 * one. Kept in memory: a restart hands every agent a full bucket, which the pending cap still
 * bounds. Time is the clock's; nothing runs between takes.
 */
export class RateLimiter {
  readonly #limits: Limits;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: Limits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Throws `limit_exceeded` (saying the limit and when to try again) unless a token is left. */
  check(agent: string): void {
    const b = this.#refill(agent);
    if (b.tokens >= 1) return;
    const { ratePerMinute, burst } = this.#limits;
    const waitS = Math.max(1, Math.ceil(((1 - b.tokens) * 60) / ratePerMinute));
    throw new HiveError(
      ErrorCode.LimitExceeded,
      `${agent} may set at most ${ratePerMinute} reminders a minute (bursts of ${burst}); ` +
        `try again in ${waitS} s`,
    );
  }

  /** Takes the token {@link check} found (after the reminder was stored). */
  take(agent: string): void {
    const b = this.#refill(agent);
    b.tokens -= 1;
    if (this.#buckets.size > PRUNE_AT) this.#prune();
  }

  #refill(agent: string): Bucket {
    const now = this.#clock.now();
    const { ratePerMinute, burst } = this.#limits;
    let b = this.#buckets.get(agent);
    if (!b) {
      b = { tokens: burst, at: now };
      this.#buckets.set(agent, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerMinute) / 60_000);
    b.at = now;
    return b;
  }

  #prune(): void {
    for (const agent of [...this.#buckets.keys()]) {
      if (this.#refill(agent).tokens >= this.#limits.burst) this.#buckets.delete(agent);
    }
  }
}

/** Throws `limit_exceeded` when `agent` already has `maxPending` pending reminders. */
export function checkPending(agent: string, pending: number, limits: Limits, self: boolean): void {
  if (pending < limits.maxPending) return;
  const how = self ? "cancel some (list_my_reminders, cancel_reminder) first" : "cancel some first";
  throw new HiveError(
    ErrorCode.LimitExceeded,
    `${agent} has ${pending} pending reminders; at most ${limits.maxPending} may be pending per ` +
      `agent: ${how}`,
  );
}
