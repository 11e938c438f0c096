import { type NatsConnection, publishEvent, ServiceEvent, subjects } from "@hyperhive/shared";
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

/** Events kept while there is no connection yet (before nats-server's first start). */
const MAX_QUEUED = 100;

/**
 * Publishes ServiceEvents on `hive up`'s own connection. Before the connection exists (nats-server
 * is the first service) events are queued and sent when it is attached. During a NATS outage the
 * connection keeps reconnecting and the NATS client buffers what is published, sending it once
 * the server is back; subscribers that reconnect later than `hive up` miss those, as with any core
 * NATS event. An event that cannot be handed to the client at all (the connection is closed) is
 * dropped, with a line on the terminal.
 */
export class ServiceEventPublisher {
  #nc: NatsConnection | undefined;
  #closed = false;
  readonly #queue: ServiceEvent[] = [];
  readonly #warn: (line: string) => void;

  constructor(warn: (line: string) => void) {
    this.#warn = warn;
  }

  attach(nc: NatsConnection): void {
    if (this.#closed) {
      void nc.close();
      return;
    }
    this.#nc = nc;
    for (const e of this.#queue.splice(0)) this.#send(nc, e);
  }

  publish(e: ServiceEvent): void {
    if (this.#closed) return;
    const nc = this.#nc;
    if (nc) {
      this.#send(nc, e);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) {
      const old = this.#queue.shift();
      if (old) this.#warn(`hive: no NATS yet; dropped the ${old.event} event of ${old.service}`);
    }
    this.#queue.push(e);
  }

  /** Closes the connection; later events are dropped silently (the hive is stopping). */
  async close(): Promise<void> {
    const nc = this.#nc;
    this.#closed = true;
    this.#nc = undefined;
    this.#queue.length = 0;
    if (nc && !nc.isClosed()) await nc.close();
  }

  #send(nc: NatsConnection, e: ServiceEvent): void {
    try {
      publishEvent(nc, subjects.events.service(e.service), ServiceEvent, e);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.#warn(`hive: could not publish the ${e.event} event of ${e.service} (${why}); dropped`);
    }
  }
}
