import type { AgentName, LiveEvent } from "@hyperhive/shared/contract";
import { type ReadonlySignal, signal } from "@preact/signals";
import { AgentLiveEvents, streams } from "../../wire.js";
import { EventStream } from "../lib/stream.js";

/** One turn of an agent as it streamed in. */
export interface Turn {
  readonly id: string;
  /** Unix ms of its first event seen. */
  readonly at: number;
  /** Its events in arrival order. */
  readonly events: readonly LiveEvent[];
  /** Between `turn_start` and `turn_end`. */
  readonly active: boolean;
}

/**
 * An agent's live turns, newest first, kept from `/api/agents/<name>/live`: its `history` (the
 * turns the web kept), then each `live` event.
 */
export interface Turns {
  readonly turns: ReadonlySignal<readonly Turn[]>;
  readonly stream: EventStream<typeof AgentLiveEvents>;
}

/** Turns kept on the page; older ones are dropped so a long-open page stays small. */
export const MAX_TURNS = 50;

/** `turns` with `ev` added to its turn (a new turn goes first). */
export function addEvent(turns: readonly Turn[], ev: LiveEvent): readonly Turn[] {
  const i = turns.findIndex((t) => t.id === ev.turn_id);
  const before = i >= 0 ? turns[i] : undefined;
  const active = ev.kind === "turn_start" ? true : ev.kind === "turn_end" ? false : before?.active;
  const turn: Turn = {
    id: ev.turn_id,
    at: before?.at ?? ev.at,
    events: [...(before?.events ?? []), ev],
    active: active ?? true,
  };
  if (i < 0) return [turn, ...turns].slice(0, MAX_TURNS);
  return turns.map((t, j) => (j === i ? turn : t));
}

/** The turns `events` (oldest first) fold into. */
export function foldEvents(events: readonly LiveEvent[]): readonly Turn[] {
  return events.reduce(addEvent, []);
}

/** Opens the agent's live stream and collects its turns. */
export function connectTurns(agent: AgentName): Turns {
  const turns = signal<readonly Turn[]>([]);
  const stream = new EventStream(streams.live.url(agent), AgentLiveEvents, { liveOn: "ready" })
    // Sent on every (re)connect and holding all the web kept: it replaces, so nothing doubles.
    .on("history", (h) => {
      turns.value = foldEvents(h.events);
    })
    .on("live", (ev) => {
      turns.value = addEvent(turns.value, ev);
    });
  return { turns, stream };
}
