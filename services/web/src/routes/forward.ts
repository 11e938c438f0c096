import { type Logger, parseEvent } from "@hyperhive/shared";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { z } from "zod";

/** Where a pump's events go: an SSE stream that ends when its subscription fails. */
export interface PumpTarget {
  end(): void;
  onEnd(fn: () => void): void;
}

/**
 * Subscribes to `subject` for as long as `stream` lives and forwards its valid events. An event
 * that fails its schema, or that `accept` refuses (its body names another agent than its
 * subject), is dropped with a warning. A failed subscription (a NATS permissions violation) ends
 * the stream: it would otherwise look live while nothing can arrive.
 *
 * A callback, not an iterator: every subscription of a connection is called in the order NATS
 * delivered to it, so events of several subjects keep their order (the flow relies on it: a
 * delivery change never overtakes the announcement of its message). `forward` only queues or
 * writes; it does no async work.
 */
export function pump<T extends z.ZodType>(
  nc: NatsConnection,
  log: Logger,
  stream: PumpTarget,
  subject: string,
  schema: T,
  accept: (ev: z.infer<T>, msg: Msg) => boolean,
  forward: (ev: z.infer<T>, msg: Msg) => void,
): Subscription {
  const sub = nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) {
        log.warn({ err, subject }, "subscription failed; ending the stream");
        stream.end();
        return;
      }
      const ev = parseEvent(schema, m, log);
      if (ev === null) return;
      if (!accept(ev, m)) {
        log.warn({ subject: m.subject }, "dropped event whose subject does not match its body");
        return;
      }
      forward(ev, m);
    },
  });
  stream.onEnd(() => sub.unsubscribe());
  return sub;
}

/** Events held back while a stream's cold load runs, so none that race the load is lost. */
export interface Holdback {
  /** Runs `send` now, or once the cold load has been sent if it has not yet. */
  later(send: () => void): void;
  /** The cold load is sent: runs what was held, in order; from now on `later` runs at once. */
  release(): void;
}

/** A {@link Holdback} holding events until its `release`. */
export function holdback(): Holdback {
  let held: Array<() => void> | null = [];
  return {
    later(send) {
      if (held) held.push(send);
      else send();
    },
    release() {
      const pending = held ?? [];
      held = null;
      for (const send of pending) send();
    },
  };
}
