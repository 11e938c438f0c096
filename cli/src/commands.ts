import { randomUUID } from "node:crypto";
import {
  type AgentInfo,
  connectNats,
  type NatsConnection,
  request,
  rpcs,
  type StoredMessage,
  subjects,
} from "@hyperhive/shared";
import { CliError, readRuntime } from "./runtime.js";

async function withHive<T>(root: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const rt = readRuntime(root);
  let nc: NatsConnection;
  try {
    nc = await connectNats({ url: rt.nats_url, name: "hive-cli" });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new CliError(
      `cannot reach the hive's NATS at ${rt.nats_url} (${why}); is its hive up (pid ${rt.pid}) still running?`,
    );
  }
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** `hive send <agent> <body>`: sends as the operator. */
export async function send(root: string, to: string, body: string, json: boolean): Promise<void> {
  const res = await withHive(root, (nc) =>
    request(nc, subjects.op.send, rpcs.send, { to, body, client_id: `cli-${randomUUID()}` }),
  );
  console.log(json ? JSON.stringify(res) : `sent #${res.id} to ${to}`);
}

/** `hive inbox`: the operator's inbox, newest first. */
export async function inbox(root: string, json: boolean, limit: number): Promise<void> {
  const res = await withHive(root, (nc) => request(nc, subjects.op.inbox, rpcs.opInbox, { limit }));
  if (json) {
    console.log(JSON.stringify(res));
    return;
  }
  if (res.messages.length === 0) {
    console.log("(inbox empty)");
    return;
  }
  for (const m of res.messages) console.log(formatMessage(m));
}

function formatMessage(m: StoredMessage): string {
  const when = new Date(m.sent_at).toISOString().replace("T", " ").slice(0, 19);
  const reply = m.in_reply_to === null ? "" : ` (re #${m.in_reply_to})`;
  return `#${m.id} ${when} from ${m.from}${reply}:\n  ${m.body.replaceAll("\n", "\n  ")}`;
}

/** `hive agents`: the registry with states. */
export async function agents(root: string, json: boolean): Promise<void> {
  const res = await withHive(root, (nc) => request(nc, subjects.op.agents, rpcs.opAgents, {}));
  if (json) {
    console.log(JSON.stringify(res));
    return;
  }
  console.log(table(res.agents));
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
