/**
 * The message flow as the page folds it: messages by id, each receipt kept up to date by
 * delivery events, and threads folded by `in_reply_to`. Pure and browser-safe (it imports only
 * the contract), so the flow page and the unit tests use the same code.
 */
import {
  BROADCAST,
  type DeliveryEvent,
  type Receipt,
  type StoredMessage,
} from "@hyperhive/shared/contract";

/** Where a message's receipts stand, in short: what the flow shows beside it. */
export interface Tally {
  /** Receipts acked. */
  acked: number;
  /** Receipts in all: one per recipient (a broadcast's, one per agent that got it). */
  total: number;
  /** Receipts handed out more than once (a lease ran out, or a dead harness's was released). */
  redelivered: number;
}

/** The tally of a message's receipts. */
export function tally(m: StoredMessage): Tally {
  let acked = 0;
  let redelivered = 0;
  for (const r of m.receipts) {
    if (r.state === "acked") acked++;
    if (r.deliveries > 1) redelivered++;
  }
  return { acked, total: m.receipts.length, redelivered };
}

/** Whether `m` went to every agent at once (stored once, a receipt each). */
export const isBroadcast = (m: StoredMessage) => m.to === BROADCAST;

/**
 * Whether `ev` is newer than what `r` says. An ack is final; a receipt is handed out again only
 * with a higher delivery count. Events held back behind a cold load may be older than the load:
 * those are not applied, so a receipt never goes back (acked to leased, delivery 2 to 1).
 */
function newer(r: Receipt, ev: DeliveryEvent): boolean {
  if (r.state === "acked") return false;
  if (ev.deliveries !== r.deliveries) return ev.deliveries > r.deliveries;
  // Same delivery: leased may end acked or queued again (released), never the reverse.
  return r.state === "leased" ? ev.state !== "leased" : ev.state !== "queued";
}

/**
 * `m` with the delivery change `ev` applied to its recipient's receipt; `m` itself when the
 * event is not about it, names no recipient of it, or is older than what it already says.
 */
export function applyDelivery(m: StoredMessage, ev: DeliveryEvent): StoredMessage {
  if (ev.id !== m.id) return m;
  const i = m.receipts.findIndex((r) => r.recipient === ev.recipient);
  const r = m.receipts[i];
  if (r === undefined || !newer(r, ev)) return m;
  const now: Receipt = {
    recipient: r.recipient,
    state: ev.state,
    deliveries: ev.deliveries,
    acked_at: ev.state === "acked" ? ev.at : null,
  };
  const receipts = m.receipts.map((x, j) => (j === i ? now : x));
  const done = receipts.every((x) => x.state === "acked");
  return {
    ...m,
    receipts,
    acked_at: done ? Math.max(...receipts.map((x) => x.acked_at ?? 0)) : null,
  };
}

/** A message in the folded flow, with the replies to it (oldest first), each folded the same. */
export interface FlowNode {
  readonly message: StoredMessage;
  readonly replies: readonly FlowNode[];
  /** The highest id in this thread: the thread's latest activity. */
  readonly latest: number;
}

/**
 * Folds messages into threads: a reply nests under the message it answers when that message is
 * shown too; otherwise (no `in_reply_to`, or the message it answers is older than what is
 * loaded, or not the viewer's) it starts a thread of its own. Threads come latest activity
 * first, so a thread that just got a reply comes up; replies in the order they were sent.
 */
export function foldThreads(messages: Iterable<StoredMessage>): FlowNode[] {
  const byId = new Map<number, StoredMessage>();
  for (const m of messages) byId.set(m.id, m);
  const children = new Map<number, StoredMessage[]>();
  const roots: StoredMessage[] = [];
  for (const m of byId.values()) {
    const parent = m.in_reply_to;
    // A reply to itself or to a later message cannot be (ids grow): it would make a cycle.
    if (parent !== null && parent < m.id && byId.has(parent)) {
      const list = children.get(parent);
      if (list) list.push(m);
      else children.set(parent, [m]);
    } else {
      roots.push(m);
    }
  }
  const node = (m: StoredMessage): FlowNode => {
    const replies = (children.get(m.id) ?? []).sort((a, b) => a.id - b.id).map(node);
    return { message: m, replies, latest: Math.max(m.id, ...replies.map((r) => r.latest)) };
  };
  return roots.map(node).sort((a, b) => b.latest - a.latest);
}
