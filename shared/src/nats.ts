import { connect, type NatsConnection } from "@nats-io/transport-node";

export type { NatsConnection } from "@nats-io/transport-node";

export interface ConnectOptions {
  /** Comma-separated server URLs. */
  url: string;
  /** Client name shown in server monitoring, e.g. "broker" or "harness:alice". */
  name: string;
  user?: string;
  pass?: string;
}

/**
 * Connects to NATS with the settings every service wants: reconnect forever (the server may
 * restart under us), no randomised server order, and a name for monitoring.
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: opts.url.split(",").map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noRandomize: true,
    ...(opts.user ? { user: opts.user, pass: opts.pass ?? "" } : {}),
  });
}
