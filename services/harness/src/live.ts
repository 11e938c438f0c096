import type { AgentName, ClaudeStreamEvent, Clock, LiveEvent } from "@hyperhive/shared";

type LiveKind = LiveEvent["kind"];

/** What the caller says in one kind of live event; the turn's stream fills in the rest. */
export type LiveFields<K extends LiveKind> = Omit<
  Extract<LiveEvent, { kind: K }>,
  "kind" | "agent" | "turn_id" | "seq" | "at"
>;

interface LiveStreamOptions {
  agent: AgentName;
  /** Stamps each event's `at`. */
  clock: Clock;
  /** Validates and publishes one event (`hive.live.<agent>`). */
  publish(ev: LiveEvent): void;
}

/** The agent's live stream: numbers its turns and opens each one's {@link TurnLive}. */
export class LiveStream {
  #turns = 0;

  constructor(private readonly o: LiveStreamOptions) {}

  /** The stream of a turn that starts now; its id is `<agent>-<startedAt>-<n>`. */
  turn(startedAt: number): TurnLive {
    return new TurnLive(this.o, `${this.o.agent}-${startedAt}-${++this.#turns}`);
  }
}

/**
 * One turn's live events, one method per kind. Every event carries the turn's id and its `seq`,
 * counted from 0 in the order published, so the dashboard can put a turn back together.
 */
export class TurnLive {
  #seq = 0;

  constructor(
    private readonly o: LiveStreamOptions,
    readonly turnId: string,
  ) {}

  turnStart(f: LiveFields<"turn_start">): void {
    this.o.publish({ ...this.#head(), kind: "turn_start", ...f });
  }

  /** One line of claude's stream-json, as claude wrote it. */
  stream(event: ClaudeStreamEvent): void {
    this.o.publish({ ...this.#head(), kind: "stream", event });
  }

  /** A line claude wrote that is not stream-json (stderr, or stray stdout). */
  note(text: string): void {
    this.o.publish({ ...this.#head(), kind: "note", text });
  }

  turnEnd(f: LiveFields<"turn_end">): void {
    this.o.publish({ ...this.#head(), kind: "turn_end", ...f });
  }

  #head(): Pick<LiveEvent, "agent" | "turn_id" | "seq" | "at"> {
    return { agent: this.o.agent, turn_id: this.turnId, seq: this.#seq++, at: this.o.clock.now() };
  }
}
