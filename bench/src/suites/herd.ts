import { request, rpcs, subjects } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";
import { cpuMs } from "../cpu.js";
import { barrier, recv, send } from "./mail.js";

export interface HerdSamples {
  /** Each send's round trip with `parked` recvs long-polling on its recipient, ms. */
  parked: number[];
  /** The same sends to a recipient nobody polls, ms. */
  calm: number[];
  /** The broker's CPU time over the sends, ms. */
  cpu_parked_ms: number;
  cpu_calm_ms: number;
}

async function timedSends(
  nc: NatsConnection,
  to: string,
  n: number,
  run: string,
  brokerPid: number,
): Promise<{ samples: number[]; cpu: number }> {
  const samples: number[] = [];
  const cpu0 = cpuMs(brokerPid);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await send(nc, "sender", to, `m${i}`, `${run}-${to}-${i}`);
    samples.push(performance.now() - t0);
  }
  return { samples, cpu: cpuMs(brokerPid) - cpu0 };
}

/**
 * No thundering herd: `parked` recvs long-poll one agent (`herd`), then `sends` sends to it one
 * after another, each timed, with the broker's CPU; the same sends to `calm`, which nobody
 * polls, are the baseline. The leftover recvs are dismissed with a release.
 */
export async function herd(
  nc: NatsConnection,
  parked: number,
  sends: number,
  run: string,
  brokerPid: number,
): Promise<HerdSamples> {
  const calm = await timedSends(nc, "calm", sends, run, brokerPid);
  const polls = Array.from({ length: parked }, () => recv(nc, "herd", 120));
  await barrier(nc, "herd");
  const busy = await timedSends(nc, "herd", sends, run, brokerPid);
  await request(nc, subjects.agent.release("herd"), rpcs.release, {});
  const results = await Promise.all(polls);
  const delivered = results.filter((r) => r.message !== null).length;
  if (delivered !== sends) throw new Error(`${delivered} recvs got mail, ${sends} were sent`);
  return {
    parked: busy.samples,
    calm: calm.samples,
    cpu_parked_ms: busy.cpu,
    cpu_calm_ms: calm.cpu,
  };
}
