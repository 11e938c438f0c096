import { type ReadonlySignal, signal } from "@preact/signals";
import type { z } from "zod";
import type { EventCatalog } from "../../wire.js";

/**
 * Where a live stream is: `connecting` (first time), `live`, `reconnecting` (EventSource is
 * retrying), `closed` (the server refused it, e.g. 401 after the token was rotated; EventSource
 * does not retry that).
 */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "closed";

export interface EventStreamOptions<C extends EventCatalog> {
  /** The stream counts as live when this event arrives, not merely when it opens. */
  liveOn?: keyof C & string;
}

/**
 * One server-sent-events stream whose events are those of a wire catalog: each payload is parsed
 * with its event's schema before a handler sees it. A payload that fails is not handed on; it is
 * reported on the console (a broken wire is a bug worth seeing).
 */
export class EventStream<C extends EventCatalog> {
  readonly #source: EventSource;
  readonly #catalog: C;
  readonly #status = signal<StreamStatus>("connecting");

  constructor(url: string, catalog: C, opts: EventStreamOptions<C> = {}) {
    this.#catalog = catalog;
    this.#source = new EventSource(url);
    const liveOn = opts.liveOn;
    if (liveOn === undefined) {
      this.#source.addEventListener("open", () => {
        this.#status.value = "live";
      });
    } else {
      this.on(liveOn, () => {
        this.#status.value = "live";
      });
    }
    this.#source.addEventListener("error", () => {
      this.#status.value =
        this.#source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
    });
  }

  /** The stream's status, for the header. */
  get status(): ReadonlySignal<StreamStatus> {
    return this.#status;
  }

  /** Hands every valid `event` payload to `fn`. */
  on<K extends keyof C & string>(event: K, fn: (data: z.infer<C[K]>) => void): this {
    this.#listen(event, this.#catalog[event], fn);
    return this;
  }

  #listen<S extends z.ZodType>(
    event: string,
    schema: S | undefined,
    fn: (data: z.output<S>) => void,
  ) {
    if (schema === undefined) throw new Error(`${event} is not an event of this stream`);
    this.#source.addEventListener(event, (ev: MessageEvent) => {
      const text: unknown = ev.data;
      let raw: unknown;
      try {
        raw = typeof text === "string" ? JSON.parse(text) : undefined;
      } catch {
        raw = undefined;
      }
      const parsed = schema.safeParse(raw);
      if (parsed.success) {
        fn(parsed.data);
        return;
      }
      const why = `${event}: ${parsed.error.issues.map((i) => i.message).join("; ")}`;
      // biome-ignore lint/suspicious/noConsole: a broken wire is a bug; say so where it shows.
      console.error(`dropped a ${why}`);
    });
  }

  /** Stops the stream for good. */
  close(): void {
    this.#source.close();
    this.#status.value = "closed";
  }
}
