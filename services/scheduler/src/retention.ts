import type { Clock, Logger } from "@hyperhive/shared";
import type { ReminderStore } from "./store.js";

/** A sweep runs at most this often... */
const SWEEP_EVERY_MS = 3600_000;
/** ...and deletes at most this many rows (a long backlog goes in slices). */
const SWEEP_ROWS = 1000;

/**
 * Deletes finished (delivered or cancelled) reminders older than `maxAgeMs`, so the file does
 * not grow for ever. It has no timer of its own: it runs when the scheduler starts and then at
 * most hourly on the way of a change (a reminder set or delivered), so an idle scheduler stays
 * idle. The counts are untouched: pending ones are never deleted, and delivered is all-time.
 */
export class Retention {
  readonly #store: ReminderStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxAgeMs: number;
  #last = Number.NEGATIVE_INFINITY;

  constructor(o: { store: ReminderStore; clock: Clock; log: Logger; maxAgeMs: number }) {
    this.#store = o.store;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#maxAgeMs = o.maxAgeMs;
  }

  /** Sweeps if the last sweep is an hour old (0 days of retention keeps everything). */
  maybe(): void {
    const now = this.#clock.now();
    if (this.#maxAgeMs <= 0 || now - this.#last < SWEEP_EVERY_MS) return;
    this.#last = now;
    const deleted = this.#store.sweep(now - this.#maxAgeMs, SWEEP_ROWS);
    if (deleted > 0) this.#log.info({ deleted }, "finished reminders swept");
    // A full slice: more may be left; the next change may sweep again.
    if (deleted === SWEEP_ROWS) this.#last = Number.NEGATIVE_INFINITY;
  }
}
