import type { AgentState, Clock, Logger } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";

/**
 * The agent's state as the hive sees it (`hive.events.agent.<me>.state`): published when it
 * changes, or when it comes with a note (why it is needs-login), stamped with the clock.
 */
export class AgentStateReporter {
  #state: AgentState | undefined;

  constructor(
    private readonly o: { hive: Pick<Hive, "publishState">; clock: Clock; log: Logger },
  ) {}

  /** The state last published; undefined before the first. */
  get current(): AgentState | undefined {
    return this.#state;
  }

  set(state: AgentState, note?: string): void {
    if (this.#state === state && note === undefined) return;
    this.#state = state;
    this.o.hive.publishState(state, this.o.clock.now(), note);
    this.o.log.info({ state, note }, "state");
  }
}
