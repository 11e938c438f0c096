import assert from "node:assert/strict";
import { withTimeout } from "@hyperhive/shared/testing";
import type * as z from "zod";
import type { EventCatalog } from "../src/wire.js";
import { auth, parseWith } from "./helpers.js";

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * A minimal SSE client over fetch: parses the stream into events and lets a test wait for the
 * next one. Comments (heartbeats) are counted, not queued.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  status = 0;
  headers: Headers = new Headers();
  readonly #abort = new AbortController();
  #waiters: Array<() => void> = [];
  #cursor = 0;
  #done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string> = auth): Promise<SseClient> {
    const c = new SseClient();
    const res = await fetch(url, { headers, signal: c.#abort.signal });
    c.status = res.status;
    c.headers = res.headers;
    if (!res.ok || !res.body) {
      c.ended = true;
      await res.body?.cancel();
      return c;
    }
    c.#done = c.#read(res.body);
    return c;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let idx = buf.indexOf("\n\n");
        while (idx >= 0) {
          this.#frame(buf.slice(0, idx));
          buf = buf.slice(idx + 2);
          idx = buf.indexOf("\n\n");
        }
      }
    } catch {
      // aborted by close(), or the server went away
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #frame(text: string): void {
    let event = "message";
    const data: string[] = [];
    let comment = false;
    for (const line of text.split("\n")) {
      if (line.startsWith(":")) comment = true;
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) {
      const parsed: unknown = JSON.parse(data.join("\n"));
      this.events.push({ event, data: parsed });
      this.#wake();
    } else if (comment) {
      this.comments++;
      this.#wake();
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves on any change (event, comment, end). */
  changed(): Promise<void> {
    return new Promise((res) => this.#waiters.push(res));
  }

  /** The next event after those already taken; fails on end of stream or after `ms`. */
  async next(ms = 5000): Promise<SseEvent> {
    return withTimeout(
      (async () => {
        for (;;) {
          const ev = this.events[this.#cursor];
          if (ev) {
            this.#cursor++;
            return ev;
          }
          if (this.ended) throw new Error("SSE stream ended");
          await this.changed();
        }
      })(),
      ms,
      "next SSE event",
    );
  }

  /**
   * The next event, which must be `event` of the wire catalog `catalog`, parsed with its schema
   * (as the page parses it).
   */
  async take<C extends EventCatalog, K extends keyof C & string>(
    catalog: C,
    event: K,
    ms = 5000,
  ): Promise<z.infer<C[K]>> {
    const ev = await this.next(ms);
    assert.equal(ev.event, event);
    return parseWith<C[K]>(catalog[event], ev.data);
  }

  /** Waits for the stream to end (server side). */
  async waitEnd(ms = 5000): Promise<void> {
    await withTimeout(this.#done, ms, "SSE stream end");
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}
