import { randomUUID } from "node:crypto";
import {
  type AgentInfo,
  BROADCAST,
  ErrorCode,
  HiveError,
  type ReminderCounts,
  rpcs,
  type SendTarget,
  type StoredMessage,
  subjects,
} from "@hyperhive/shared";
import { ask, askHive, withHive } from "./client.js";
import { replyLine } from "./history.js";
import { readToken, rotateToken } from "./identity.js";
import { type Output, wireErrorOf } from "./output.js";
import { rootPaths } from "./paths.js";
import { countsCell } from "./reminders.js";
import { readRuntime, writeRuntime } from "./runtime.js";
import { ago, table, utc } from "./table.js";

/**
 * `hive send <to> <body> [--in-reply-to ID]`: sends as the operator; `to` `*` is a broadcast, one
 * message with a receipt for every agent (the operator is never one); `inReplyTo`, the message it
 * answers (its recipient's wake prompt quotes it).
 */
export async function send(
  root: string,
  to: SendTarget,
  body: string,
  out: Output,
  inReplyTo?: number,
): Promise<void> {
  // Every try carries the same client id, so a retried send is stored once.
  const client_id = `cli-${randomUUID()}`;
  const req = {
    to,
    body,
    client_id,
    ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
  };
  const res = await askHive(root, subjects.op.send, rpcs.send, req);
  const whom = to === BROADCAST ? "every agent (a broadcast)" : to;
  // Not "in reply to": the broker keeps the link only to a message the operator could see.
  out.result(res, `sent #${res.id} to ${whom}`);
}

/** `hive inbox`: the operator's inbox, newest first. */
export async function inbox(root: string, limit: number, out: Output): Promise<void> {
  const res = await askHive(root, subjects.op.inbox, rpcs.opInbox, { limit });
  const text = res.messages.map(formatMessage).join("\n");
  out.result(res, text === "" ? "(inbox empty)" : text);
}

function formatMessage(m: StoredMessage): string {
  const re = replyLine(m);
  const head = `#${m.id} ${utc(m.sent_at)} from ${m.from}:`;
  return [
    head,
    ...(re === undefined ? [] : [`  ${re}`]),
    `  ${m.body.replaceAll("\n", "\n  ")}`,
  ].join("\n");
}

/**
 * `hive agents [--all]`: the registry with models and states; `all`: tombstones too. In text, a
 * REMINDERS column from the scheduler's counts, asked beside c0re (once: a scheduler that does not
 * answer leaves `?` and a line on stderr, never the list); `--json` is c0re's reply alone.
 */
export async function agents(root: string, all: boolean, out: Output): Promise<void> {
  const req = all ? { all } : {};
  if (out.jsonMode) {
    out.json(await askHive(root, subjects.op.agents, rpcs.opAgents, req));
    return;
  }
  const [res, counts] = await withHive(root, (nc) =>
    Promise.all([
      ask(nc, subjects.op.agents, rpcs.opAgents, req),
      ask(nc, subjects.op.reminderCounts, rpcs.opReminderCounts, {}, { retryOn: "never" }).then(
        (r) => r.counts,
        (e: unknown) => wireErrorOf(e),
      ),
    ]),
  );
  if (!Array.isArray(counts)) {
    out.problem(
      `hive: the scheduler gave no reminder counts (REMINDERS shows ?): ${counts.message}`,
    );
  }
  out.text(agentsTable(res.agents, Date.now(), Array.isArray(counts) ? counts : undefined));
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

/**
 * The agents as a table. A tombstone's STATE is `tombstone` and its SINCE the time it was
 * destroyed; an agent whose harness has not said its model yet shows `-`. REMINDERS is each
 * one's counts (`?` for all when `counts` is undefined: the scheduler did not say).
 */
export function agentsTable(
  list: readonly AgentInfo[],
  now: number,
  counts: readonly ReminderCounts[] | undefined,
): string {
  const reminders = (name: string) =>
    counts === undefined ? "?" : countsCell(counts.find((c) => c.agent === name));
  return table([
    ["NAME", "ROLE", "MODEL", "STATE", "SINCE", "RUNNING", "STARTS", "REMINDERS"],
    ...list.map((a) => [
      a.name,
      a.role,
      a.model ?? "-",
      a.tombstoned_at === null ? a.state : "tombstone",
      ago(now - (a.tombstoned_at ?? a.state_since)),
      a.running ? "yes" : "no",
      String(a.starts),
      reminders(a.name),
    ]),
  ]);
}
