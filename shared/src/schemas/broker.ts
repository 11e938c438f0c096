import * as z from "zod";
import { Recipient, Sender } from "../names.js";

/** Largest inline message body, in bytes of UTF-8. Larger content goes in a file. */
export const MAX_BODY_BYTES = 4096;
/** recv waits this long when the caller names no wait. */
export const DEFAULT_RECV_WAIT_SECONDS = 30;
/** recv never waits longer than this, whatever the caller asks. */
export const MAX_RECV_WAIT_SECONDS = 180;
/** How long a received message stays leased to its receiver unless acked or extended. */
export const DEFAULT_LEASE_SECONDS = 120;

/** Positive integer id the broker assigns to a stored message (sqlite rowid). */
export const MessageId = z.number().int().positive();

/**
 * A message body: text with something in it (empty or whitespace-only is refused); the byte cap
 * is checked separately, by the broker, to give its own error with advice that fits the sender.
 */
export const Body = z
  .string()
  .refine((b) => b.trim().length > 0, "body must not be empty or only whitespace");

/** `hive.agent.<name>.send`, `hive.op.send`, `hive.sys.send` request. */
export const SendRequest = z.strictObject({
  /** Recipient: an agent name or `operator`. */
  to: Recipient,
  /** Message text, at most {@link MAX_BODY_BYTES} bytes. */
  body: Body,
  /**
   * Caller-chosen id making the send idempotent: a retry with the same client_id (from the same
   * sender) is stored once and answered with the first send's id and `duplicate: true`.
   */
  client_id: z.string().min(1).max(128).optional(),
  /** Id of the message this one answers; informational. */
  in_reply_to: MessageId.optional(),
});
export type SendRequest = z.infer<typeof SendRequest>;

export const SendResponse = z.strictObject({
  /** The stored message's id. */
  id: MessageId,
  /** True when this client_id was already stored; nothing new was written. */
  duplicate: z.boolean(),
  /** When the message was first stored, unix milliseconds. */
  sent_at: z.number().int(),
});
export type SendResponse = z.infer<typeof SendResponse>;

/** `hive.agent.<name>.recv` request: long-poll for the next message and lease it. */
export const RecvRequest = z.strictObject({
  /** Seconds to wait for mail when none is pending: default 30; more than 180 is capped to 180. */
  wait_seconds: z.number().min(0).optional(),
  /** Seconds the message stays leased before it is delivered again, default 120. */
  lease_seconds: z.number().min(1).max(3600).optional(),
});
export type RecvRequest = z.infer<typeof RecvRequest>;

/** What every message is, wherever it is shown: the fields fixed when it was stored. */
export const MessageFields = z.strictObject({
  id: MessageId,
  from: Sender,
  to: Recipient,
  body: z.string(),
  /** Unix milliseconds when stored. */
  sent_at: z.number().int(),
  /** The message this one answers, if the sender said so. */
  in_reply_to: MessageId.nullable(),
});
export type MessageFields = z.infer<typeof MessageFields>;

/** A message as delivered to its recipient by recv: the message plus its delivery. */
export const InboxMessage = MessageFields.extend({
  /** 1 on first delivery, 2+ when a lease expired and the message came round again. */
  delivery: z.number().int().positive(),
  /** True when an earlier delivery was leased but never acked (the receiver died mid-turn). */
  redelivered: z.boolean(),
  /** Unix milliseconds when the lease ends unless acked or extended. */
  lease_until: z.number().int(),
});
export type InboxMessage = z.infer<typeof InboxMessage>;

export const RecvResponse = z.strictObject({
  /** The leased message, or null when the wait ran out with nothing pending. */
  message: InboxMessage.nullable(),
  /** Messages still deliverable to this agent after this one. */
  pending: z.number().int().nonnegative(),
});
export type RecvResponse = z.infer<typeof RecvResponse>;

/** `hive.agent.<name>.ack` request: the turn this message drove has ended. */
export const AckRequest = z.strictObject({ id: MessageId });
export type AckRequest = z.infer<typeof AckRequest>;

export const AckResponse = z.strictObject({
  id: MessageId,
  /** False when it had already been acked before (acks are idempotent). */
  first_ack: z.boolean(),
});
export type AckResponse = z.infer<typeof AckResponse>;

/** `hive.agent.<name>.extend` request: keep leases alive while a long turn runs. */
export const ExtendRequest = z.strictObject({
  ids: z.array(MessageId).min(1).max(1000),
  lease_seconds: z.number().min(1).max(3600),
});
export type ExtendRequest = z.infer<typeof ExtendRequest>;

export const ExtendResponse = z.strictObject({
  /** Ids whose lease was extended (still leased to the caller, not acked). */
  extended: z.array(MessageId),
});
export type ExtendResponse = z.infer<typeof ExtendResponse>;

/**
 * `hive.agent.<name>.release` request: the caller is a new incarnation of the agent (its harness
 * just started), so every lease still held under its name belongs to a dead one: end them now
 * instead of waiting for them to expire; recvs of the agent still parked from before the release
 * are answered empty. One harness runs per agent (c0re sees to it).
 */
export const ReleaseRequest = z.strictObject({});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export const ReleaseResponse = z.strictObject({
  /** Ids whose lease was ended; they are deliverable again (and will say `redelivered`). */
  released: z.array(MessageId),
});
export type ReleaseResponse = z.infer<typeof ReleaseResponse>;

/** A stored message as shown in history and the operator's inbox: the message plus its fate. */
export const StoredMessage = MessageFields.extend({
  /** Unix ms of the ack that ended its delivery; null while unacked. */
  acked_at: z.number().int().nullable(),
});
export type StoredMessage = z.infer<typeof StoredMessage>;

/** `hive.op.inbox` request: the operator's inbox, newest first. */
export const InboxListRequest = z.strictObject({
  limit: z.number().int().min(1).max(500).optional(),
  /** Only messages with id below this (paging backwards). */
  before_id: MessageId.optional(),
});
export type InboxListRequest = z.infer<typeof InboxListRequest>;

export const InboxListResponse = z.strictObject({ messages: z.array(StoredMessage) });
export type InboxListResponse = z.infer<typeof InboxListResponse>;

/** `hive.inbox.<agent>` event: new mail for one agent was committed. */
export const InboxAnnouncement = MessageFields.pick({
  id: true,
  from: true,
  to: true,
  sent_at: true,
}).extend({
  /** First 120 characters of the body. */
  preview: z.string(),
});
export type InboxAnnouncement = z.infer<typeof InboxAnnouncement>;

/** Byte length of a body as the broker counts it against {@link MAX_BODY_BYTES}. */
export function bodyBytes(body: string): number {
  return utf8.encode(body).length;
}

const utf8 = new TextEncoder();

/** First 120 characters of a body, for announcements and lists. */
export function preview(body: string): string {
  return body.length <= 120 ? body : `${body.slice(0, 119)}…`;
}
