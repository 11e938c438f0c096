import { ErrorCode, HiveError, request, rpcs, subjects } from "@hyperhive/shared";
import type { NatsConnection } from "@nats-io/transport-node";

/** The broker's verbs as the benchmarks use them (the wire schemas at both ends, as in the hive). */
export const send = (nc: NatsConnection, from: string, to: string, body: string, cid: string) =>
  request(nc, subjects.agent.send(from), rpcs.send, { to, body, client_id: cid });

export const recv = (nc: NatsConnection, agent: string, waitSeconds: number) =>
  request(
    nc,
    subjects.agent.recv(agent),
    rpcs.recv,
    { wait_seconds: waitSeconds },
    { timeoutMs: (waitSeconds + 30) * 1000 },
  );

export const ack = (nc: NatsConnection, agent: string, id: number) =>
  request(nc, subjects.agent.ack(agent), rpcs.ack, { id });

/**
 * Resolves once the broker has committed a batch after everything this connection sent before:
 * an ack of a message that does not exist goes through the same group commit as recvs, and is
 * answered `not_found` after it.
 */
export async function barrier(nc: NatsConnection, agent: string): Promise<void> {
  try {
    await ack(nc, agent, Number.MAX_SAFE_INTEGER);
  } catch (e) {
    if (HiveError.is(e, ErrorCode.NotFound)) return;
    throw e;
  }
  throw new Error("the barrier ack found a message");
}

/**
 * Where the raw baseline's responder is: `local` answers on the client's own connection, in its
 * process (the baseline the broker's targets were set against); `process` is a process of its
 * own, like the broker.
 */
export type EchoKind = "local" | "process";

export const ECHO_SUBJECT: Record<EchoKind, string> = {
  local: "bench.echo.local",
  process: "bench.echo",
};

/** A raw NATS request/reply to an echo responder. */
export const echo = (nc: NatsConnection, kind: EchoKind, payload: Uint8Array) =>
  nc.request(ECHO_SUBJECT[kind], payload, { timeout: 10_000 });

/** A payload the size of a short send, for the raw baseline. */
export const ECHO_PAYLOAD = new TextEncoder().encode(
  JSON.stringify({ to: "sink", body: "message 000000", client_id: "bench-00000000" }),
);
