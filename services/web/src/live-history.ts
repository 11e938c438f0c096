import { type AgentName, LiveEvent, type Logger, subjects, subjectToken } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import { pump } from "./routes/forward.js";

/** Turns kept per agent: a page opened now shows as many as a busy while of work. */
export const HISTORY_TURNS = 20;
/** Events kept per agent, over all its kept turns. */
export const HISTORY_EVENTS = 2000;
/**
 * Bytes of events (as published) kept per agent: a stream event may carry a whole tool result,
 * up to NATS's 1 MiB payload, so a count alone does not bound the memory.
 */
export const HISTORY_BYTES = 4 * 1024 * 1024;

export interface TurnHistoryOptions {
  nc: NatsConnection;
  log: Logger;
  /** Most turns kept per agent; default {@link HISTORY_TURNS}. */
  maxTurns?: number;
  /** Most events kept per agent; default {@link HISTORY_EVENTS}. */
  maxEvents?: number;
  /** Most bytes of events kept per agent; default {@link HISTORY_BYTES}. */
  maxBytes?: number;
}

/** What {@link TurnHistory.follow} gives: the kept events, then the later ones by callback. */
export interface Following {
  /** The agent's kept events, oldest first, as they were when `follow` was called (a copy). */
  readonly events: LiveEvent[];
  /** No more events to this follower. */
  unsubscribe(): void;
}

interface Follower {
  onEvent(ev: LiveEvent): void;
  onEnd(): void;
}

interface Kept {
  ev: LiveEvent;
  bytes: number;
}

/** One agent's kept turns (in the order they started) and who follows it. */
interface AgentHistory {
  turns: Map<string, Kept[]>;
  events: number;
  bytes: number;
  followers: Set<Follower>;
}

/**
 * The recent turns of every agent, from one subscription to `hive.live.*` for the whole web
 * service: an agent page opened (or reloaded) mid-turn gets what it missed, then the rest live.
 * Per agent it keeps the events of its latest {@link HISTORY_TURNS} turns, at most
 * {@link HISTORY_EVENTS} events and {@link HISTORY_BYTES} bytes: whole oldest turns go first;
 * a single turn over the bounds loses its oldest events but keeps its `turn_start`. Kept in
 * memory only: a restart of the web forgets it.
 *
 * An event is validated with `LiveEvent`; a malformed one, or one whose `agent` is not its
 * subject's, is dropped with a warning.
 */
export class TurnHistory {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #maxTurns: number;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #agents = new Map<AgentName, AgentHistory>();
  readonly #cleanups: Array<() => void> = [];
  #started = false;
  /** The subscription failed or the history was stopped: nothing more will arrive. */
  #over = false;

  constructor(opts: TurnHistoryOptions) {
    this.#nc = opts.nc;
    this.#log = opts.log;
    this.#maxTurns = opts.maxTurns ?? HISTORY_TURNS;
    this.#maxEvents = opts.maxEvents ?? HISTORY_EVENTS;
    this.#maxBytes = opts.maxBytes ?? HISTORY_BYTES;
  }

  /**
   * Subscribes (once); resolves when the server has the subscription, so every event published
   * after is kept. A failed subscription (a permissions violation) ends every follower.
   */
  async start(): Promise<void> {
    if (this.#started || this.#over) return;
    this.#started = true;
    const target = {
      end: () => this.#end("subscription failed"),
      onEnd: (fn: () => void) => {
        this.#cleanups.push(fn);
      },
    };
    const accept = (ev: LiveEvent, m: { subject: string }) =>
      subjectToken(m.subject, 2) === ev.agent;
    pump(this.#nc, this.#log, target, subjects.liveAll, LiveEvent, accept, (ev, m) =>
      this.#add(ev, m.data.length),
    );
    try {
      await this.#nc.flush();
    } catch (e) {
      this.#log.warn({ err: e }, "nats flush failed after subscribing to the live events");
    }
  }

  /**
   * The agent's kept events now, and `onEvent` for each later one until `unsubscribe`, with no
   * gap and no repeat between the two: nothing runs between taking the one and registering the
   * other. `onEnd` runs when no more events will come (the subscription failed, the history was
   * stopped); at once, before this returns, if that happened already.
   */
  follow(
    agent: AgentName,
    onEvent: (ev: LiveEvent) => void,
    onEnd: () => void = () => {},
  ): Following {
    const h = this.#agent(agent);
    const events = this.events(agent);
    const follower: Follower = { onEvent, onEnd };
    const unsubscribe = () => {
      h.followers.delete(follower);
      this.#forgetIfEmpty(agent, h);
    };
    if (this.#over) {
      this.#forgetIfEmpty(agent, h);
      onEnd();
      return { events, unsubscribe: () => {} };
    }
    h.followers.add(follower);
    return { events, unsubscribe };
  }

  /** The agent's kept events, oldest first. */
  events(agent: AgentName): LiveEvent[] {
    const h = this.#agents.get(agent);
    return h ? [...h.turns.values()].flatMap((turn) => turn.map((k) => k.ev)) : [];
  }

  /** The agent's kept turn ids, oldest first. */
  turnIds(agent: AgentName): string[] {
    return [...(this.#agents.get(agent)?.turns.keys() ?? [])];
  }

  /** How many follow `agent` now (tests see a page's stream let go). */
  followers(agent: AgentName): number {
    return this.#agents.get(agent)?.followers.size ?? 0;
  }

  /** Unsubscribes and ends every follower; what was kept is dropped. */
  stop(): void {
    this.#end(null);
    this.#agents.clear();
  }

  #end(why: string | null): void {
    if (this.#over) return;
    this.#over = true;
    if (why) this.#log.error(`live history: ${why}; agent pages get no live turns`);
    // pump's cleanup: the subscription goes.
    for (const fn of this.#cleanups.splice(0)) fn();
    for (const h of this.#agents.values()) {
      for (const f of [...h.followers]) f.onEnd();
      h.followers.clear();
    }
  }

  #agent(agent: AgentName): AgentHistory {
    let h = this.#agents.get(agent);
    if (!h) {
      h = { turns: new Map(), events: 0, bytes: 0, followers: new Set() };
      this.#agents.set(agent, h);
    }
    return h;
  }

  #forgetIfEmpty(agent: AgentName, h: AgentHistory): void {
    if (h.turns.size === 0 && h.followers.size === 0 && this.#agents.get(agent) === h) {
      this.#agents.delete(agent);
    }
  }

  #add(ev: LiveEvent, bytes: number): void {
    if (this.#over) return;
    const h = this.#agent(ev.agent);
    const turn = h.turns.get(ev.turn_id);
    if (turn) turn.push({ ev, bytes });
    else h.turns.set(ev.turn_id, [{ ev, bytes }]);
    h.events++;
    h.bytes += bytes;
    this.#trim(h);
    // A copy: a follower may unsubscribe while being called.
    for (const f of [...h.followers]) {
      try {
        f.onEvent(ev);
      } catch (e) {
        this.#log.warn({ err: e, agent: ev.agent }, "live history: a follower failed");
      }
    }
  }

  #overBounds(h: AgentHistory): boolean {
    return h.events > this.#maxEvents || h.bytes > this.#maxBytes;
  }

  /** Whole oldest turns first; then the oldest events of the one turn left, after its start. */
  #trim(h: AgentHistory): void {
    while (h.turns.size > this.#maxTurns || (h.turns.size > 1 && this.#overBounds(h))) {
      const [oldest, kept] = h.turns.entries().next().value ?? [];
      if (oldest === undefined || kept === undefined) break;
      h.turns.delete(oldest);
      h.events -= kept.length;
      h.bytes -= kept.reduce((n, k) => n + k.bytes, 0);
    }
    const [id, only] = h.turns.entries().next().value ?? [];
    if (id === undefined || only === undefined) return;
    while (this.#overBounds(h) && only.length > 0) {
      const at = only.length > 1 && only[0]?.ev.kind === "turn_start" ? 1 : 0;
      const [gone] = only.splice(at, 1);
      h.events--;
      h.bytes -= gone?.bytes ?? 0;
    }
    if (only.length === 0) h.turns.delete(id);
  }
}
