import {
  type Logger,
  type NatsConnection,
  publishEvent,
  type Reminder,
  ReminderEvent,
  subjects,
} from "@hyperhive/shared";
import type { ReminderStore } from "./store.js";

/**
 * `hive.events.reminders`: every change of a reminder (set, delivered, a failed try, cancelled,
 * retried), with its owner's counts after it, read back from the store once the change is
 * committed. Publishing is synchronous (into the connection's buffer), so events go out in the
 * order the changes happened; a failure (a closed connection) is logged, never thrown into the
 * change.
 */
export class ReminderEvents {
  readonly #nc: NatsConnection;
  readonly #store: ReminderStore;
  readonly #log: Logger;

  constructor(o: { nc: NatsConnection; store: ReminderStore; log: Logger }) {
    this.#nc = o.nc;
    this.#store = o.store;
    this.#log = o.log;
  }

  /** Publishes reminder `id` as it is now; returns it (undefined if there is none). */
  changed(id: number): Reminder | undefined {
    const reminder = this.#store.get(id);
    if (!reminder) return undefined;
    try {
      publishEvent(this.#nc, subjects.events.reminders, ReminderEvent, {
        reminder,
        counts: this.#store.counts(reminder.owner),
      });
    } catch (err) {
      this.#log.warn({ err, id }, "could not publish a reminder event");
    }
    return reminder;
  }
}
