import {
  type AgentName,
  AgentStateEvent,
  decodeJson,
  ErrorCode,
  HiveError,
  type Logger,
  type NatsConnection,
  publishEvent,
  respondError,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { Registry } from "./registry.js";

/** Longest note kept on an offline event (an exit detail can be a long error line). */
const MAX_NOTE_CHARS = 500;

export interface AgentStatesOptions {
  nc: NatsConnection;
  log: Logger;
  registry: Registry;
  /** Whether the driver has the agent's harness up. */
  isRunning: (name: AgentName) => boolean;
}

/**
 * Each agent's last state, in the registry: what its harness says on
 * `hive.events.agent.<name>.state` (with the model its next turn uses, when the event names
 * one), and `offline`, which c0re itself decides (and announces) when the harness is down.
 */
export class AgentStates {
  readonly #o: AgentStatesOptions;
  readonly #listeners = new Set<(ev: AgentStateEvent) => void>();
  #sub: Subscription | undefined;
  #loop: Promise<void> | undefined;

  constructor(o: AgentStatesOptions) {
    this.#o = o;
  }

  /** Follows the agents' state events (the caller flushes the connection). */
  start(): void {
    const sub = this.#o.nc.subscribe(subjects.events.agentStateAll);
    this.#sub = sub;
    this.#loop = (async () => {
      for await (const msg of sub) this.#onEvent(msg);
    })();
  }

  async stop(): Promise<void> {
    if (this.#sub && !this.#sub.isClosed()) await this.#sub.drain();
    await this.#loop;
  }

  /**
   * Calls `listener` with every state event of a running agent's harness that c0re took (in
   * order, after storing it); returns the unsubscribe function.
   */
  onChange(listener: (ev: AgentStateEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores `offline` (why, in `note`) and announces it, unless it is stored already. */
  markOffline(name: AgentName, at: number, note?: string): void {
    if (!this.#o.registry.setState(name, "offline", at)) return;
    try {
      publishEvent(this.#o.nc, subjects.events.agentState(name), AgentStateEvent, {
        agent: name,
        state: "offline",
        since: at,
        ...(note === undefined ? {} : { note: note.slice(0, MAX_NOTE_CHARS) }),
      });
    } catch (err) {
      this.#o.log.warn({ err, agent: name }, "could not publish state event");
    }
  }

  #onEvent(msg: Msg): void {
    const { registry, log } = this.#o;
    const name = subjectToken(msg.subject, 3);
    let ev: AgentStateEvent;
    try {
      ev = AgentStateEvent.parse(decodeJson(msg.data));
      if (ev.agent !== name) {
        throw new HiveError(
          ErrorCode.BadRequest,
          `agent "${ev.agent}" does not match the subject's agent "${name}"`,
        );
      }
    } catch (e) {
      log.warn({ subject: msg.subject, err: e }, "dropped malformed state event");
      // Published as a request (a test, a tool): tell the sender what was wrong.
      respondError(msg, e);
      return;
    }
    const row = registry.get(ev.agent);
    if (!row || ev.since < row.state_since) return;
    // A late event from a harness that is already gone must not resurrect it.
    if (ev.state !== "offline" && !this.#o.isRunning(ev.agent)) return;
    registry.setState(ev.agent, ev.state, ev.since);
    if (ev.model !== undefined) registry.setModel(ev.agent, ev.model);
    for (const l of this.#listeners) l(ev);
  }
}
