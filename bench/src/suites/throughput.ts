import type { NatsConnection } from "@nats-io/transport-node";
import { inParallel } from "../stats.js";
import { ECHO_PAYLOAD, echo, send } from "./mail.js";

export interface Throughput {
  /** Durable sends acknowledged per second (each after its commit and fsync). */
  broker_sends_per_s: number;
  /** Raw NATS requests answered per second, the responder on the client's own connection. */
  nats_requests_per_s: number;
  /** The same, the responder in a process of its own. */
  nats_process_requests_per_s: number;
  /** Sends measured (and as many raw requests). */
  sends: number;
}

async function rate(total: number, inFlight: number, one: (i: number) => Promise<void>) {
  let next = 0;
  const t0 = performance.now();
  await inParallel(inFlight, async () => {
    for (let i = next++; i < total; i = next++) await one(i);
  });
  return { ops: total, ms: performance.now() - t0 };
}

/**
 * `total` requests with `inFlight` outstanding at once, for each kind, twice, alternating so all
 * see the same machine: raw NATS request/reply (responder local, then in its own process), then
 * durable sends through the broker (unique client ids, one sender, one recipient).
 */
export async function throughput(
  nc: NatsConnection,
  inFlight: number,
  total: number,
  run: string,
): Promise<Throughput> {
  const acc = {
    broker: { ops: 0, ms: 0 },
    nats: { ops: 0, ms: 0 },
    process: { ops: 0, ms: 0 },
  };
  const add = (k: keyof typeof acc, r: { ops: number; ms: number }) => {
    acc[k].ops += r.ops;
    acc[k].ms += r.ms;
  };
  for (const round of [0, 1]) {
    add(
      "nats",
      await rate(total, inFlight, async () => {
        await echo(nc, "local", ECHO_PAYLOAD);
      }),
    );
    add(
      "process",
      await rate(total, inFlight, async () => {
        await echo(nc, "process", ECHO_PAYLOAD);
      }),
    );
    add(
      "broker",
      await rate(total, inFlight, async (i) => {
        await send(nc, "sender", "sink", `message ${i}`, `${run}-${round}-${i}`);
      }),
    );
  }
  return {
    broker_sends_per_s: Math.round((acc.broker.ops / acc.broker.ms) * 1000),
    nats_requests_per_s: Math.round((acc.nats.ops / acc.nats.ms) * 1000),
    nats_process_requests_per_s: Math.round((acc.process.ops / acc.process.ms) * 1000),
    sends: acc.broker.ops,
  };
}
