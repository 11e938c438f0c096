import { randomUUID } from "node:crypto";
import {
  type AgentInfo,
  connectNats,
  ErrorCode,
  HiveError,
  type NatsConnection,
  request,
  retry,
  retryPolicy,
  rpcs,
  type StoredMessage,
  subjects,
  systemClock,
} from "@hyperhive/shared";
import { readToken, rotateToken } from "./identity.js";
import type { Output } from "./output.js";
import { rootPaths } from "./paths.js";
import { readRuntime, writeRuntime } from "./runtime.js";

/**
 * A request the hive could answer a moment later (a service restarting: `unavailable`,
 * `timeout`) is tried again for a few seconds; every try of a send carries the same client id,
 * so it is stored once.
 */
const REQUEST_RETRY = retryPolicy({ initialMs: 200, factor: 2, maxMs: 2000, maxAttempts: 6 });

async function withHive<T>(root: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const rt = readRuntime(root);
  let nc: NatsConnection;
  try {
    nc = await connectNats({ url: rt.nats_url, name: "hive-cli" });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new HiveError(
      ErrorCode.Unavailable,
      `cannot reach the hive's NATS at ${rt.nats_url} (${why}); is its hive up (pid ${rt.pid}) still running?`,
    );
  }
  try {
    return await retry(() => fn(nc), {
      policy: REQUEST_RETRY,
      clock: systemClock,
      retryable: (e) => e instanceof HiveError && e.retryable,
    });
  } finally {
    await nc.close();
  }
}

/** `hive send <agent> <body>`: sends as the operator. */
export async function send(root: string, to: string, body: string, out: Output): Promise<void> {
  const client_id = `cli-${randomUUID()}`;
  const res = await withHive(root, (nc) =>
    request(nc, subjects.op.send, rpcs.send, { to, body, client_id }),
  );
  out.result(res, `sent #${res.id} to ${to}`);
}

/** `hive inbox`: the operator's inbox, newest first. */
export async function inbox(root: string, limit: number, out: Output): Promise<void> {
  const res = await withHive(root, (nc) => request(nc, subjects.op.inbox, rpcs.opInbox, { limit }));
  const text = res.messages.map(formatMessage).join("\n");
  out.result(res, text === "" ? "(inbox empty)" : text);
}

function formatMessage(m: StoredMessage): string {
  const when = new Date(m.sent_at).toISOString().replace("T", " ").slice(0, 19);
  const reply = m.in_reply_to === null ? "" : ` (re #${m.in_reply_to})`;
  return `#${m.id} ${when} from ${m.from}${reply}:\n  ${m.body.replaceAll("\n", "\n  ")}`;
}

/** `hive agents`: the registry with states. */
export async function agents(root: string, out: Output): Promise<void> {
  const res = await withHive(root, (nc) => request(nc, subjects.op.agents, rpcs.opAgents, {}));
  out.result(res, table(res.agents));
}

/**
 * `hive token [--rotate]`: the kept operator token, or a new one. A running web reads the token
 * file again, so after a rotation the old token (and every browser session opened with it) gets
 * 401 and the printed dashboard URL works.
 */
export function token(root: string, rotate: boolean, out: Output): void {
  const paths = rootPaths(root);
  const running = readRuntime(root, { quiet: true });
  let value: string;
  if (rotate) {
    value = rotateToken(paths);
    if (running) writeRuntime(root, { ...running, token: value });
  } else {
    const kept = readToken(paths);
    if (kept === undefined) {
      throw new HiveError(
        ErrorCode.NotFound,
        `no operator token at ${root} yet; hive up makes one (${paths.tokenFile})`,
      );
    }
    value = kept;
  }
  const dashboard = running ? `${running.web_url}/?token=${value}` : undefined;
  out.json({ token: value, dashboard: dashboard ?? null, rotated: rotate });
  if (dashboard) out.text(`dashboard: ${dashboard}`);
  out.text(`token: ${value}`);
  if (rotate && !running) out.say(`hive: no hive is running at ${root}; the next hive up uses it`);
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

function table(list: AgentInfo[]): string {
  const now = Date.now();
  const rows = [
    ["NAME", "ROLE", "STATE", "SINCE", "RUNNING", "STARTS"],
    ...list.map((a) => [
      a.name,
      a.role,
      a.state,
      ago(now - a.state_since),
      a.running ? "yes" : "no",
      String(a.starts),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
