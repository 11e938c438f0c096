import {
  BROADCAST,
  type HistoryRequest,
  type MessageFields,
  OPERATOR,
  type Receipt,
  rpcs,
  type StoredMessage,
  subjects,
} from "@hyperhive/shared";
import { askHive } from "./client.js";
import type { Output } from "./output.js";
import { utc } from "./table.js";

/**
 * `hive history`: the broker's stored messages (by agent, thread, time), newest first, each with
 * where its delivery stands: one recipient's state, or a broadcast's ack count once.
 */

/**
 * One recipient's copy in words, by the broker's state — `queued`, `leased`, `acked` — and
 * `redelivered` once recv has handed it out more than once (a lease ran out, or a dead
 * incarnation's was released): `leased, redelivered (delivery 2)`, `acked, redelivered (3
 * deliveries)`. A copy queued again after a delivery waits for its redelivery.
 */
export function receiptState(r: Receipt): string {
  const n = r.deliveries;
  // The operator's inbox has no recv and no ack: its copy waits there, read or not.
  if (r.recipient === OPERATOR && r.state === "queued") return "in the operator's inbox";
  switch (r.state) {
    case "queued":
      return n === 0
        ? "queued"
        : `queued, to be redelivered (${n} ${n === 1 ? "delivery" : "deliveries"} so far)`;
    case "leased":
      return n <= 1 ? "leased" : `leased, redelivered (delivery ${n})`;
    case "acked":
      return n <= 1 ? "acked" : `acked, redelivered (${n} deliveries)`;
  }
}

/**
 * Where a message's delivery stands: its one receipt's state, or for a broadcast, shown once,
 * `broadcast, acked 1/3; alice leased, bob queued` (the recipients not done yet named with
 * their states).
 */
export function deliveryState(m: StoredMessage): string {
  if (m.to !== BROADCAST) {
    return m.receipts.map((r) => receiptState(r)).join(", ") || "no receipt";
  }
  const n = m.receipts.length;
  if (n === 0) return "broadcast, acked 0/0 (no other agent was on the roster)";
  const open = m.receipts.filter((r) => r.state !== "acked");
  const head = `broadcast, acked ${n - open.length}/${n}`;
  if (open.length === 0) return head;
  return `${head}; ${open.map((r) => `${r.recipient} ${receiptState(r)}`).join(", ")}`;
}

/** What a reply answers, as the wake prompt says it: `(in reply to #11 from operator: "ping")`. */
export function replyLine(m: MessageFields): string | undefined {
  if (m.reply_to !== null) {
    const r = m.reply_to;
    return `(in reply to #${r.id} from ${r.from}: ${JSON.stringify(r.quote)})`;
  }
  if (m.in_reply_to !== null) return `(in reply to #${m.in_reply_to}, no longer stored)`;
  return undefined;
}

/**
 * One message: a line with its id, time (UTC), sender, recipient and delivery, then what it
 * answers, then its body, indented.
 */
export function formatStored(m: StoredMessage): string {
  const lines = [`#${m.id} ${utc(m.sent_at)} ${m.from} -> ${m.to}: ${deliveryState(m)}`];
  const re = replyLine(m);
  if (re !== undefined) lines.push(`  ${re}`);
  lines.push(`  ${m.body.replaceAll("\n", "\n  ")}`);
  return lines.join("\n");
}

/** `hive history [...]`: one page, newest first; the next page's `--before` under it. */
export async function history(root: string, req: HistoryRequest, out: Output): Promise<void> {
  const res = await askHive(root, subjects.op.history, rpcs.opHistory, req);
  const parts = res.messages.map(formatStored);
  if (parts.length === 0) parts.push("(no messages)");
  if (res.next_before_id !== null) {
    parts.push(`(older messages: the same with --before ${res.next_before_id})`);
  }
  out.result(res, parts.join("\n"));
}
