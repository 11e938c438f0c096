import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";

/** One open server-sent-events stream. */
export interface SseStream {
  /** Writes one event; a no-op once the stream has ended. */
  send(event: string, data: unknown): void;
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
}

/**
 * Owns every open SSE stream of the app, so closing the app can end them all (a hijacked
 * response would otherwise hold `server.close()` open forever).
 */
export class SseHub {
  readonly #streams = new Set<SseStream>();
  readonly #heartbeatMs: number;

  constructor(opts: SseHubOptions = {}) {
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  /** Number of open streams (tests use it to see a client's stream go away). */
  get size(): number {
    return this.#streams.size;
  }

  /** Takes over the response and opens an event stream on it. */
  open(req: FastifyRequest, reply: FastifyReply): SseStream {
    reply.hijack();
    const res: ServerResponse = reply.raw;
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
    const heartbeat = setInterval(() => stream.comment("hb"), this.#heartbeatMs);
    heartbeat.unref();

    const stream: SseStream = {
      get ended() {
        return ended;
      },
      send(event, data) {
        if (ended) return;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
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
        clearInterval(heartbeat);
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

  /** Ends every open stream (the app is closing). */
  endAll(): void {
    for (const s of [...this.#streams]) s.end();
  }
}
