import type { Roster as RosterMsg } from "@hyperhive/shared";
import type { ApprovalsStore } from "./approvals-store.js";
import type { Events } from "./events.js";
import type { Registry } from "./registry.js";

/**
 * Who mail may be addressed to: every active agent (not tombstones) and every name waiting for a
 * spawn decision (mail may be queued for it). Told to the broker on every change and when c0re
 * starts; `at` is the time of the last change, so an older roster never replaces a newer one.
 */
export class RosterKeeper {
  readonly #registry: Registry;
  readonly #approvals: ApprovalsStore;
  readonly #events: Events;
  #at = 0;

  constructor(o: { registry: Registry; approvals: ApprovalsStore; events: Events }) {
    this.#registry = o.registry;
    this.#approvals = o.approvals;
    this.#events = o.events;
  }

  /** The roster as of the last change. */
  current(): RosterMsg {
    const names = new Set(this.#registry.active().map((r) => r.name));
    for (const n of this.#approvals.pendingSpawns()) names.add(n);
    return { agents: [...names], at: this.#at };
  }

  /** Something it is made of changed (or c0re started): publish it. */
  changed(at: number): void {
    this.#at = Math.max(at, this.#at);
    this.#events.roster(this.current());
  }
}
