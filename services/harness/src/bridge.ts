import { randomUUID } from "node:crypto";
import {
  type AgentName,
  type AgentState,
  AgentStateEvent,
  type InboxMessage,
  LiveEvent,
  type NatsConnection,
  publishEvent,
  type RecvResponse,
  request,
  rpcs,
  type SendResponse,
  subjects,
  TurnStats,
} from "@hyperhive/shared";

/** Payload of a LiveEvent without the fields the bridge fills in. */
export type LiveEventBody = LiveEvent extends infer E
  ? E extends LiveEvent
    ? Omit<E, "agent" | "at">
    : never
  : never;

/**
 * Everything the harness says on NATS, as this agent: broker requests on
 * `hive.agent.<me>.*`, and its events (state, live stream, turn stats).
 */
export class NatsBridge {
  readonly agent: AgentName;
  private readonly nc: NatsConnection;
  private readonly now: () => number;

  constructor(opts: { nc: NatsConnection; agent: AgentName; now?: () => number }) {
    this.nc = opts.nc;
    this.agent = opts.agent;
    this.now = opts.now ?? Date.now;
  }

  /** Sends as this agent. A fresh client id makes the harness's own retries idempotent. */
  send(to: string, body: string, inReplyTo?: number): Promise<SendResponse> {
    return request(
      this.nc,
      subjects.agent.send(this.agent),
      rpcs.send,
      {
        to,
        body,
        client_id: randomUUID(),
        ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
      },
      { timeoutMs: 10_000 },
    );
  }

  /** Long-polls for the next message and leases it. */
  recv(waitSeconds: number, leaseSeconds: number): Promise<RecvResponse> {
    return request(
      this.nc,
      subjects.agent.recv(this.agent),
      rpcs.recv,
      { wait_seconds: waitSeconds, lease_seconds: leaseSeconds },
      { timeoutMs: waitSeconds * 1000 + 10_000 },
    );
  }

  async ack(id: number): Promise<boolean> {
    const r = await request(this.nc, subjects.agent.ack(this.agent), rpcs.ack, { id });
    return r.first_ack;
  }

  async extend(ids: number[], leaseSeconds: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const r = await request(this.nc, subjects.agent.extend(this.agent), rpcs.extend, {
      ids,
      lease_seconds: leaseSeconds,
    });
    return r.extended;
  }

  async release(): Promise<number[]> {
    const r = await request(this.nc, subjects.agent.release(this.agent), rpcs.release, {});
    return r.released;
  }

  publishState(state: AgentState, since: number, note?: string): void {
    publishEvent(this.nc, subjects.events.agentState(this.agent), AgentStateEvent, {
      agent: this.agent,
      state,
      since,
      ...(note === undefined ? {} : { note }),
    });
  }

  publishLive(ev: LiveEventBody): void {
    publishEvent(this.nc, subjects.live(this.agent), LiveEvent, {
      ...ev,
      agent: this.agent,
      at: this.now(),
    } as LiveEvent);
  }

  publishStats(stats: TurnStats): void {
    publishEvent(this.nc, subjects.turnStats, TurnStats, stats);
  }
}

export type { InboxMessage };
