import {
  AckRequest,
  AgentStateEvent,
  type ClaudeStreamEvent,
  decodeJson,
  ExtendRequest,
  LiveEvent,
  type NatsConnection,
  parseEvent,
  RecvRequest,
  RecvResponse,
  subjects,
  subjectToken,
  TurnStats,
} from "@hyperhive/shared";
import type { Msg } from "@nats-io/transport-node";

type TurnStart = Extract<LiveEvent, { kind: "turn_start" }>;
type TurnEnd = Extract<LiveEvent, { kind: "turn_end" }>;

export interface ObserverOptions {
  /**
   * Also watch recv requests and what recvs hand out. Off where a test needs "nobody serves
   * recv" to be true: a subscriber of its own would count as one.
   */
  recv?: boolean;
}

/**
 * Everything harnesses publish, and the ack/extend (and recv) requests they make, as seen on
 * NATS; every payload parsed with its schema.
 */
export class Observer {
  live: LiveEvent[] = [];
  states: AgentStateEvent[] = [];
  stats: TurnStats[] = [];
  acks: { agent: string; id: number }[] = [];
  extends: { agent: string; ids: number[] }[] = [];
  recvs: { agent: string; wait_seconds?: number | undefined }[] = [];
  /** Ids of the messages recvs handed out (replies seen on `_INBOX.>`). */
  repliedIds: number[] = [];

  constructor(nc: NatsConnection, opts: ObserverOptions = {}) {
    const on = (subject: string, f: (m: Msg) => void) => {
      const sub = nc.subscribe(subject);
      (async () => {
        for await (const m of sub) f(m);
      })().catch(() => {});
    };
    const agentOf = (m: Msg) => subjectToken(m.subject, 2) ?? "";
    on(subjects.liveAll, (m) => this.#push(this.live, parseEvent(LiveEvent, m)));
    on(subjects.events.agentStateAll, (m) =>
      this.#push(this.states, parseEvent(AgentStateEvent, m)),
    );
    on(subjects.turnStatsAll, (m) => this.#push(this.stats, parseEvent(TurnStats, m)));
    on(subjects.agentWildcard.ack, (m) => {
      const r = parseEvent(AckRequest, m);
      if (r) this.acks.push({ agent: agentOf(m), id: r.id });
    });
    on(subjects.agentWildcard.extend, (m) => {
      const r = parseEvent(ExtendRequest, m);
      if (r) this.extends.push({ agent: agentOf(m), ids: r.ids });
    });
    if (opts.recv) {
      on(subjects.agentWildcard.recv, (m) => {
        const r = parseEvent(RecvRequest, m);
        if (r) this.recvs.push({ agent: agentOf(m), wait_seconds: r.wait_seconds });
      });
      on("_INBOX.>", (m) => {
        // Only recv replies parse as RecvResponse; every other reply is not ours to count.
        const r = RecvResponse.safeParse(parseJson(m));
        if (r.success && r.data.message) this.repliedIds.push(r.data.message.id);
      });
    }
  }

  #push<T>(to: T[], v: T | null): void {
    if (v !== null) to.push(v);
  }

  liveOf(agent: string): LiveEvent[] {
    return this.live.filter((e) => e.agent === agent);
  }
  statesOf(agent: string): string[] {
    return this.states.filter((e) => e.agent === agent).map((e) => e.state);
  }
  turnEnds(agent: string): TurnEnd[] {
    return this.liveOf(agent).flatMap((e) => (e.kind === "turn_end" ? [e] : []));
  }
  turnStarts(agent: string): TurnStart[] {
    return this.liveOf(agent).flatMap((e) => (e.kind === "turn_start" ? [e] : []));
  }
  /** Turns started on one message. */
  turnsOn(agent: string, id: number): TurnStart[] {
    return this.turnStarts(agent).filter((s) => s.message.id === id);
  }
  /** claude's `system/init` events of `agent`'s runs (its tools, MCP servers, session id). */
  claudeInits(agent: string): ClaudeStreamEvent[] {
    return this.liveOf(agent).flatMap((e) =>
      e.kind === "stream" && e.event.type === "system" && e.event.subtype === "init"
        ? [e.event]
        : [],
    );
  }
  ackedIds(agent: string): number[] {
    return this.acks.filter((a) => a.agent === agent).map((a) => a.id);
  }
  /** Extend requests of `agent` that named message `id`. */
  extendsOf(agent: string, id: number): number {
    return this.extends.filter((e) => e.agent === agent && e.ids.includes(id)).length;
  }
}

function parseJson(m: Msg): unknown {
  try {
    return decodeJson(m.data);
  } catch {
    return undefined;
  }
}
