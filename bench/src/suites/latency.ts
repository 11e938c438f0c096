import type { NatsConnection } from "@nats-io/transport-node";
import { inParallel } from "../stats.js";
import { ack, ECHO_PAYLOAD, echo, recv, send } from "./mail.js";

export interface LatencySamples {
  /** From issuing a send to the already parked recv returning it, ms. */
  sendRecv: number[];
  /** A raw NATS request/reply round trip, the responder on the client's connection, ms. */
  nats: number[];
  /** The same, the responder in a process of its own, ms. */
  natsProcess: number[];
}

/**
 * `inFlight` workers at once, each `perWorker` times: two raw NATS round trips (responder local,
 * and in its own process), then one broker
 * send->recv to its own agent (`a<i>`, its recv parked first) and the ack; the two kinds
 * interleaved so drift affects both alike.
 */
export async function latency(
  nc: NatsConnection,
  inFlight: number,
  perWorker: number,
  run: string,
): Promise<LatencySamples> {
  const out: LatencySamples = { sendRecv: [], nats: [], natsProcess: [] };
  await inParallel(inFlight, async (w) => {
    const agent = `a${w}`;
    for (let i = 0; i < perWorker; i++) {
      let t0 = performance.now();
      await echo(nc, "local", ECHO_PAYLOAD);
      out.nats.push(performance.now() - t0);
      t0 = performance.now();
      await echo(nc, "process", ECHO_PAYLOAD);
      out.natsProcess.push(performance.now() - t0);

      // Published first on the same connection: the broker parks it before the send arrives.
      const polling = recv(nc, agent, 10);
      t0 = performance.now();
      const sent = send(nc, "sender", agent, `message ${i}`, `${run}-${w}-${i}`);
      sent.catch(() => {}); // awaited below; this only keeps a failure from going unhandled
      const got = await polling;
      out.sendRecv.push(performance.now() - t0);
      const id = (await sent).id;
      if (got.message?.id !== id) throw new Error(`recv returned ${got.message?.id}, sent ${id}`);
      await ack(nc, agent, id);
    }
  });
  return out;
}
