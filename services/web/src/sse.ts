import type { ServerResponse } from "node:http";
import { type Clock, every, systemClock } from "@hyperhive/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { EventCatalog } from "./wire.js";

/** One open server-sent-events stream whose events are those of the catalog `C`. */
export interface SseStream<C extends EventCatalog> {
  /**
   * Validates `data` with the event's schema from the catalog and writes it; an invalid payload
   * is not sent (it is logged: the server broke its own wire). A no-op once the stream has ended.
   */
  send<K extends keyof C & string>(event: K, data: z.input<C[K]>): void;
  /** Writes a comment line (ignored by EventSource; keeps proxies and sockets awake). */
  comment(text: string): void;
  /** Ends the stream and runs its cleanups once. */
  end(): void;
  /** Runs `fn` when the stream ends, whoever ends it (client gone, app closing). */
  onEnd(fn: () => void): void;
  readonly ended: boolean;
}

export interface SseHubOptions {
  /** Milliseconds between heartbeat comments; default 15000. */
  heartbeatMs?: number;
  /** The heartbeats' clock; default the system clock. */
  clock?: Clock;
}

/**
 * Owns every open SSE stream of the app, so closing the app (or rotating the operator token) can
 * end them all: a hijacked response would otherwise hold `server.close()` open forever.
 */
export class SseHub {
  readonly #streams = new Set<{ end(): void }>();
  readonly #heartbeatMs: number;
  readonly #clock: Clock;

  constructor(opts: SseHubOptions = {}) {
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Number of open streams (tests use it to see a client's stream go away). */
  get size(): number {
    return this.#streams.size;
  }

  /** Takes over the response and opens an event stream on it, sending the events of `catalog`. */
  open<C extends EventCatalog>(req: FastifyRequest, reply: FastifyReply, catalog: C): SseStream<C> {
    reply.hijack();
    const res: ServerResponse = reply.raw;
    // Headers set on the raw response by the onRequest hooks (helmet's) are kept by writeHead.
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-transform",
      // A stream never shares its socket: when it ends, the connection goes too.
      connection: "close",
      "x-accel-buffering": "no",
    });
    // Tells EventSource how long to wait before reconnecting, and flushes the headers.
    res.write("retry: 2000\n\n");

    const cleanups: Array<() => void> = [];
    let ended = false;
    const stopHeartbeat = every(this.#clock, this.#heartbeatMs, () => stream.comment("hb"));

    const stream: SseStream<C> = {
      get ended() {
        return ended;
      },
      send(event, data) {
        if (ended) return;
        const schema: z.ZodType | undefined = catalog[event];
        const checked = schema?.safeParse(data);
        if (!checked?.success) {
          req.log.error({ event, err: checked?.error }, "not sending an event off its schema");
          return;
        }
        res.write(`event: ${event}\ndata: ${JSON.stringify(checked.data)}\n\n`);
      },
      comment(text) {
        if (ended) return;
        res.write(`: ${text.replace(/[\r\n]/g, " ")}\n\n`);
      },
      onEnd(fn) {
        if (ended) fn();
        else cleanups.push(fn);
      },
      end: () => {
        if (ended) return;
        ended = true;
        stopHeartbeat();
        this.#streams.delete(stream);
        for (const fn of cleanups.splice(0)) {
          try {
            fn();
          } catch (e) {
            req.log.warn({ err: e }, "sse cleanup failed");
          }
        }
        if (!res.writableEnded) res.end();
      },
    };
    this.#streams.add(stream);
    req.raw.on("close", () => stream.end());
    res.on("close", () => stream.end());
    res.on("error", () => stream.end());
    return stream;
  }

  /** Ends every open stream (the app is closing, or the token they were opened with is gone). */
  endAll(): void {
    for (const s of [...this.#streams]) s.end();
  }
}
