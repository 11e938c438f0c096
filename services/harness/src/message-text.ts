import {
  BROADCAST,
  type InboxMessage,
  type PreviousAction,
  type SocketMessage,
} from "@hyperhive/shared";
import { displaySender } from "./claude.js";

/**
 * How a message reads to claude, the same in the wake prompt and in `recv`/`recv_batch`: who
 * wrote, the body, then one line per thing worth knowing about it. Pure.
 */

/** The mark on a broadcast (the wording is the hive's, from the seeds). */
export const BROADCAST_NOTE = "(this was a broadcast and may not need any action from you)";
export const REDELIVERED_NOTE = "(redelivered: a previous turn on this message did not finish)";

/** Longest quote of a sent body or a question kept in the memory of a turn's actions. */
export const QUOTE_CHARS = 80;

/** A body in short, on one line: its first {@link QUOTE_CHARS} characters, `…` when cut. */
export function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= QUOTE_CHARS ? flat : `${flat.slice(0, QUOTE_CHARS - 1)}…`;
}

/** The queue hint: how many more messages wait (the broker's pending count, broadcasts included). */
export function queuedNote(pending: number): string | undefined {
  return pending > 0 ? `(+${pending} more queued; consider draining before acting)` : undefined;
}

/**
 * A message as the agent's tools show it: a wake shows its label as the sender, a broadcast says
 * so, and `previous` is what earlier turns on it already did (when it came again).
 */
export function showMessage(
  agent: string,
  m: InboxMessage,
  previous: PreviousAction[],
): SocketMessage {
  return {
    id: m.id,
    ...displaySender(agent, m),
    sent_at: m.sent_at,
    in_reply_to: m.in_reply_to,
    reply_to: m.reply_to,
    redelivered: m.redelivered,
    broadcast: m.to === BROADCAST,
    previous,
  };
}

function target(to: string): string {
  return to === BROADCAST ? "everyone (*)" : to;
}

/** The line listing what earlier turns on a message did, one clause per kind; none when empty. */
export function previousNotes(previous: readonly PreviousAction[]): string[] {
  const sent = previous.flatMap((a) =>
    a.kind === "sent" ? [`#${a.id} to ${target(a.to)}: "${a.quote}"`] : [],
  );
  const asked = previous.flatMap((a) =>
    a.kind === "asked" ? [`question #${a.id} to ${a.to}: "${a.quote}"`] : [],
  );
  const reminded = previous.flatMap((a) =>
    a.kind === "reminded"
      ? [`reminder #${a.id} due ${new Date(a.due_at).toISOString()}: "${a.quote}"`]
      : [],
  );
  const notes: string[] = [];
  if (sent.length > 0) {
    notes.push(`(a previous attempt at this message already sent: ${sent.join("; ")})`);
  }
  if (asked.length > 0) {
    notes.push(`(a previous attempt at this message already asked: ${asked.join("; ")})`);
  }
  if (reminded.length > 0) {
    notes.push(`(a previous attempt at this message already set: ${reminded.join("; ")})`);
  }
  return notes;
}

/** What a message says about itself: its id, what it answers, broadcast, redelivery, history. */
function messageNotes(m: SocketMessage): string[] {
  const notes = [`(message #${m.id})`];
  if (m.reply_to) {
    notes.push(
      `(in reply to #${m.reply_to.id} from ${m.reply_to.from}: "${quote(m.reply_to.quote)}")`,
    );
  } else if (m.in_reply_to !== null) {
    notes.push(`(in reply to #${m.in_reply_to})`);
  }
  if (m.broadcast) notes.push(BROADCAST_NOTE);
  if (m.redelivered) notes.push(REDELIVERED_NOTE);
  return notes;
}

/** One message: `from: <sender>`, a blank line, the body, a blank line, its notes. */
export function messageText(m: SocketMessage, extra: readonly string[] = []): string {
  return [`from: ${m.from}`, "", m.body, "", ...messageNotes(m), ...extra].join("\n");
}

/** Why a message is being tried again. */
export interface RetryHint {
  /** Which try this is (2 for the first retry). */
  attempt: number;
  lastError: string;
  /** The previous try did not fail by itself: the operator cancelled it. */
  cancelled?: boolean;
}

function retryNote(r: RetryHint): string {
  return r.cancelled
    ? `(retry ${r.attempt}: the operator cancelled the previous turn on this message)`
    : `(retry ${r.attempt}: the previous turn on this message failed: ${r.lastError})`;
}

export interface WakePromptInput {
  message: SocketMessage;
  /** Messages still waiting after this one. */
  pending: number;
  /** Set when an earlier turn on this same message ended in an error: which try this is, and why. */
  retry?: RetryHint | undefined;
}

/**
 * The prompt piped to claude: the message, then (when they apply) the retry, what earlier turns
 * on it already sent, and how much more mail is queued.
 */
export function wakePrompt(w: WakePromptInput): string {
  const extra = [
    ...(w.retry ? [retryNote(w.retry)] : []),
    ...previousNotes(w.message.previous),
    queuedNote(w.pending),
  ].filter((l): l is string => l !== undefined);
  return `${messageText(w.message, extra)}\n`;
}

/** What `recv` reads as: the message as in a wake prompt, or that there was none. */
export function recvText(r: { message: SocketMessage | null; pending: number }): string {
  if (!r.message) return "(no messages)";
  const extra = [...previousNotes(r.message.previous), queuedNote(r.pending)];
  return messageText(
    r.message,
    extra.filter((l): l is string => l !== undefined),
  );
}

/** What `recv_batch` reads as: each message, numbered, then how many more are queued. */
export function batchText(r: { messages: SocketMessage[]; pending: number }): string {
  if (r.messages.length === 0) return "(no messages)";
  const n = r.messages.length;
  const parts = r.messages.map(
    (m, i) => `--- ${i + 1}/${n}\n${messageText(m, previousNotes(m.previous))}`,
  );
  const more = queuedNote(r.pending);
  const head = `${n} message${n === 1 ? "" : "s"}:`;
  return [head, ...parts, ...(more ? ["---", more] : [])].join("\n");
}
