import type { AgentState, Clock, Logger } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";

/**
 * The agent's state as the hive sees it (`hive.events.agent.<me>.state`): published when it
 * changes, or when it comes with a note (why it is needs-login), stamped with the clock. Every
 * event says which model the next turn uses, so c0re and the dashboard always know it.
 */
export class AgentStateReporter {
  #state: AgentState | undefined;
  #since = 0;

  constructor(
    private readonly o: {
      hive: Pick<Hive, "publishState">;
      clock: Clock;
      log: Logger;
      /** The model the next turn uses, as of now. */
      model: () => string;
    },
  ) {}

  /** The state last published; undefined before the first. */
  get current(): AgentState | undefined {
    return this.#state;
  }

  set(state: AgentState, note?: string): void {
    if (this.#state === state && note === undefined) return;
    this.#state = state;
    this.#since = this.o.clock.now();
    this.o.hive.publishState({ state, since: this.#since, model: this.o.model(), note });
    this.o.log.info({ state, note }, "state");
  }

  /** Says the current state again (unchanged `since`) with what changed around it: the model. */
  republish(): void {
    if (this.#state === undefined) return;
    this.o.hive.publishState({ state: this.#state, since: this.#since, model: this.o.model() });
  }
}
