import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { userClaimsOf } from "./auth/claims.js";

export type { NatsConnection } from "@nats-io/transport-node";

export interface ConnectOptions {
  /** Comma-separated server URLs. */
  url: string;
  /** Client name shown in server monitoring, e.g. "broker" or "harness:alice". */
  name: string;
  user?: string;
  pass?: string;
  /**
   * A `.creds` file (user JWT and nkey seed) to authenticate with. Its reply inbox prefix is
   * taken from the JWT: the `_INBOX.<who>.>` its subscribe grants allow.
   */
  credsFile?: string | undefined;
}

/** The reply inbox prefix a user's JWT lets it subscribe to (`_INBOX.<who>`), if any. */
export function inboxPrefixOf(creds: Uint8Array): string | undefined {
  const allow = userClaimsOf(creds)?.nats.sub?.allow;
  const inbox = allow?.find((s) => s.startsWith("_INBOX.") && s.endsWith(".>"));
  return inbox?.slice(0, -2);
}

/**
 * Connects to NATS with the settings every service wants: reconnect forever (the server may
 * restart under us), no randomised server order, and a name for monitoring.
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const creds = opts.credsFile === undefined ? undefined : readFileSync(opts.credsFile);
  const inboxPrefix = creds === undefined ? undefined : inboxPrefixOf(creds);
  return connect({
    servers: opts.url.split(",").map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noRandomize: true,
    ...(opts.user ? { user: opts.user, pass: opts.pass ?? "" } : {}),
    ...(creds === undefined ? {} : { authenticator: credsAuthenticator(creds) }),
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
  });
}
