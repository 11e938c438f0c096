import { decodeJson, encodeJson, RecvResponse, subjects } from "@hyperhive/shared";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ack, barrier, send } from "./mail.js";

export interface BroadcastSamples {
  /** From issuing a broadcast to the last of the agents' parked recvs returning it, ms. */
  broker: number[];
  /** From a raw publish to the last of the agents' connections receiving it, ms. */
  nats: number[];
  /**
   * From the first of one raw publish per agent (to a subject of its own, decoded like a recv
   * reply) to the last arriving: what answering each agent's own request costs at least.
   */
  natsEach: number[];
}

/** One NATS connection per agent, as each agent's harness has its own. */
export async function agentConnections(url: string, n: number): Promise<NatsConnection[]> {
  const out: NatsConnection[] = [];
  for (let i = 0; i < n; i++) out.push(await connect({ servers: url, name: `bench-a${i}` }));
  return out;
}

/**
 * `names.length` agents, each on its own connection, each long-polling recv; one broadcast; the
 * time until every one of them has it. Beside it, in the same rounds: one raw NATS publish to a
 * subscription on each of the same connections (the target's baseline), and one raw publish per
 * agent to a subject of its own (the least a reply to each agent's own request costs). Acks (not
 * timed) between rounds.
 *
 * A recv reply is decoded here with JSON.parse and its id checked, not parsed with zod: in the
 * hive each agent parses its own reply in its own process, in parallel; done here, in one
 * process, the client's parsing of 1,000 replies would be measured as if it were the broker's.
 */
export async function broadcast(
  nc: NatsConnection,
  agents: readonly { name: string; nc: NatsConnection }[],
  rounds: number,
  run: string,
): Promise<BroadcastSamples> {
  const out: BroadcastSamples = { broker: [], nats: [], natsEach: [] };
  let got = 0;
  let allGot: () => void = () => {};
  const one = () => {
    if (++got === agents.length) allGot();
  };
  const subs = agents.flatMap((a, i) => [
    a.nc.subscribe("bench.fan", { callback: one }),
    a.nc.subscribe(`bench.each.${i}`, {
      callback: (_err, m) => {
        decodeJson(m.data);
        one();
      },
    }),
  ]);
  // The raw messages weigh what a recv's reply does: the same JSON, with the broadcast in it.
  const payload = encodeJson({
    message: {
      id: 1,
      from: "sender",
      to: "*",
      body: "broadcast 0",
      sent_at: Date.now(),
      in_reply_to: null,
      reply_to: null,
      delivery: 1,
      redelivered: false,
      lease_until: Date.now(),
    },
    pending: 0,
  });
  await Promise.all(agents.map((a) => a.nc.flush()));
  try {
    for (let r = 0; r < rounds; r++) {
      // Raw: one publish, a subscription on every agent's connection.
      got = 0;
      const all = new Promise<void>((resolve) => {
        allGot = resolve;
      });
      let t0 = performance.now();
      nc.publish("bench.fan", payload);
      await all;
      out.nats.push(performance.now() - t0);

      // Raw: one publish per agent, each to its own subject.
      got = 0;
      const each = new Promise<void>((resolve) => {
        allGot = resolve;
      });
      t0 = performance.now();
      for (let i = 0; i < agents.length; i++) nc.publish(`bench.each.${i}`, payload);
      await each;
      out.natsEach.push(performance.now() - t0);

      // The broker: every agent's recv parked, then one broadcast.
      const polls = agents.map((a) =>
        a.nc
          .request(subjects.agent.recv(a.name), encodeJson({ wait_seconds: 60 }), {
            timeout: 90_000,
          })
          .then((m) => decodeJson(m.data)),
      );
      await Promise.all(agents.map((a) => a.nc.flush()));
      await barrier(nc, "sender");
      t0 = performance.now();
      const sent = await send(nc, "sender", "*", `broadcast ${r}`, `${run}-${r}`);
      const replies = await Promise.all(polls);
      out.broker.push(performance.now() - t0);
      for (const [i, reply] of replies.entries()) {
        const res = RecvResponse.parse(reply);
        if (res.message?.id !== sent.id) {
          throw new Error(
            `${agents[i]?.name} got ${res.message?.id}, the broadcast was ${sent.id}`,
          );
        }
      }
      await Promise.all(agents.map((a) => ack(nc, a.name, sent.id)));
    }
  } finally {
    for (const s of subs) s.unsubscribe();
  }
  return out;
}
