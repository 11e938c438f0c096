import {
  type Cancel,
  type Clock,
  type NatsConnection,
  publishEvent,
  ServiceEvent,
  subjects,
} from "@hyperhive/shared";
import type { SupervisorEvent } from "./supervisor.js";

/**
 * What the supervisor saw, said twice: one line on the terminal, and a ServiceEvent on
 * `hive.events.service.<name>` over `hive up`'s own NATS connection.
 */

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The terminal line for a supervisor event (none for a service's first start). */
export function terminalLine(e: SupervisorEvent): string | undefined {
  switch (e.kind) {
    case "started":
      return e.starts > 1 ? `hive: ${e.service} is back (pid ${e.pids[0]})` : undefined;
    case "exited":
      return `hive: ${e.service} exited on its own (${e.detail}) after ${seconds(e.ranMs)}`;
    case "start_failed":
      return `hive: ${e.service} did not come back: ${e.detail}`;
    case "restarting":
      return `hive: restarting ${e.service} in ${e.delayMs} ms (failure ${e.failures} in a row)`;
    case "gave_up":
      return `hive: giving up on ${e.service}: ${e.detail}; stopping the hive`;
  }
}

/** The ServiceEvent for a supervisor event, stamped `at` (unix ms). */
export function serviceEvent(e: SupervisorEvent, at: number): ServiceEvent {
  const base = { service: e.service, at, starts: e.starts };
  const detail = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);
  switch (e.kind) {
    case "started":
      return { ...base, event: "started" };
    case "exited":
      return { ...base, event: "exited", detail: detail(e.detail) };
    case "start_failed":
      return { ...base, event: "exited", detail: detail(`start failed: ${e.detail}`) };
    case "restarting":
      return { ...base, event: "restarting", detail: `in ${e.delayMs} ms` };
    case "gave_up":
      return { ...base, event: "gave_up", detail: detail(e.detail) };
  }
}

/** Events held while NATS is down (or not there yet); beyond this the oldest are dropped. */
const MAX_HELD = 100;
/**
 * Held events go out this long after NATS is back: the other clients (the dashboard) retry every
 * 250 ms, so by then they have resubscribed and hear them.
 */
export const SETTLE_MS = 1000;

/**
 * Publishes ServiceEvents on `hive up`'s own connection. Events are held, not lost, while there
 * is no NATS to hear them: before the connection exists (nats-server is the first service), while
 * the connection is down (its status says disconnect), and from the moment nats-server exits
 * (`hold`) until it is back (`release`). Held events go out {@link SETTLE_MS} after NATS is back,
 * in order. More than {@link MAX_HELD} held: the oldest are dropped, each with a terminal line;
 * an event the client refuses (closed connection) is dropped with a line too.
 */
export class ServiceEventPublisher {
  #nc: NatsConnection | undefined;
  #closed = false;
  #held = false;
  #flush: Cancel | undefined;
  readonly #queue: ServiceEvent[] = [];
  readonly #clock: Clock;
  readonly #warn: (line: string) => void;

  constructor(o: { clock: Clock; warn: (line: string) => void }) {
    this.#clock = o.clock;
    this.#warn = o.warn;
  }

  /** The connection to publish on; held events go out once it is settled. */
  attach(nc: NatsConnection): void {
    if (this.#closed) {
      void nc.close();
      return;
    }
    this.#nc = nc;
    void this.#watch(nc);
    if (!this.#held) this.#send();
  }

  /** NATS is gone (nats-server exited): hold events from now on. */
  hold(): void {
    this.#held = true;
    this.#flush?.();
    this.#flush = undefined;
  }

  /** NATS is back: send what was held after {@link SETTLE_MS}. */
  release(): void {
    this.#flush?.();
    this.#flush = this.#clock.schedule(SETTLE_MS, () => {
      this.#flush = undefined;
      this.#held = false;
      this.#send();
    });
  }

  publish(e: ServiceEvent): void {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_HELD) {
      const old = this.#queue.shift();
      if (old) this.#warn(`hive: NATS is away; dropped the ${old.event} event of ${old.service}`);
    }
    this.#queue.push(e);
    if (!this.#held) this.#send();
  }

  /** Closes the connection; later events are dropped silently (the hive is stopping). */
  async close(): Promise<void> {
    const nc = this.#nc;
    this.#closed = true;
    this.#nc = undefined;
    this.#flush?.();
    this.#queue.length = 0;
    if (nc && !nc.isClosed()) await nc.close();
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") this.hold();
      else if (s.type === "reconnect") this.release();
    }
  }

  #send(): void {
    const nc = this.#nc;
    if (!nc) return;
    for (const e of this.#queue.splice(0)) {
      try {
        publishEvent(nc, subjects.events.service(e.service), ServiceEvent, e);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.#warn(
          `hive: could not publish the ${e.event} event of ${e.service} (${why}); dropped`,
        );
      }
    }
  }
}
