import { decodeJson, encodeJson, RecvResponse, subjects } from "@hyperhive/shared";
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
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
 * The bench stands in for 1,000 harnesses in one process, so what each harness would spend on
 * its own reply, in parallel with the others, is spent here one reply after another, and would
 * be measured as if it were the broker's. So an agent's recv is the same request on the wire
 * (a publish with a reply subject of that connection's own) but its reply is taken by a
 * subscription callback, as the baselines take theirs: not through nats.js's request machinery
 * (a timer and two Error objects with their stacks per request, a third at each reply: 1,000 of
 * those ran 15–30 ms in one process), and decoded with JSON.parse and its id checked, not parsed
 * with zod.
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
  // Each agent's recv replies, by agent.
  const replies: unknown[] = [];
  const inboxes = agents.map((a) => createInbox(`_INBOX.${a.name}`));
  const subs = agents.flatMap((a, i) => [
    a.nc.subscribe("bench.fan", { callback: one }),
    a.nc.subscribe(`bench.each.${i}`, {
      callback: (_err, m) => {
        decodeJson(m.data);
        one();
      },
    }),
    a.nc.subscribe(inboxes[i]!, {
      callback: (_err, m) => {
        replies[i] = decodeJson(m.data);
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
      got = 0;
      replies.length = 0;
      const polled = new Promise<void>((resolve) => {
        allGot = resolve;
      });
      const recv = encodeJson({ wait_seconds: 60 });
      agents.forEach((a, i) => {
        a.nc.publish(subjects.agent.recv(a.name), recv, { reply: inboxes[i]! });
      });
      await Promise.all(agents.map((a) => a.nc.flush()));
      await barrier(nc, "sender");
      t0 = performance.now();
      const sent = await send(nc, "sender", "*", `broadcast ${r}`, `${run}-${r}`);
      await polled;
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
