import * as z from "zod";
import { AgentName, Recipient, Sender, SendTarget } from "../names.js";

/** Largest inline message body, in bytes of UTF-8. Larger content goes in a file. */
export const MAX_BODY_BYTES = 4096;
/** recv waits this long when the caller names no wait. */
export const DEFAULT_RECV_WAIT_SECONDS = 30;
/** recv never waits longer than this, whatever the caller asks. */
export const MAX_RECV_WAIT_SECONDS = 180;
/** How long a received message stays leased to its receiver unless acked or extended. */
export const DEFAULT_LEASE_SECONDS = 120;
/** recv_batch hands out at most this many messages at once. */
export const MAX_RECV_BATCH = 50;

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
  /**
   * An agent name, `operator`, or `*`: a broadcast, stored once with one receipt per recipient
   * (every agent on the roster but the sender, at the time of the send).
   */
  to: SendTarget,
  /** Message text, at most {@link MAX_BODY_BYTES} bytes. */
  body: Body,
  /**
   * Caller-chosen id making the send idempotent: a retry with the same client_id (from the same
   * sender) is stored once and answered with the first send's id and `duplicate: true`.
   */
  client_id: z.string().min(1).max(128).optional(),
  /**
   * The message this one answers. Kept only when the sender could see that message (sent by it,
   * to it, or a broadcast it received); an unknown or foreign id is dropped, not an error.
   */
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

/** What the message a reply answers was, in short: shown with the reply. */
export const ReplyContext = z.strictObject({
  id: MessageId,
  from: Sender,
  /** Its body's first 80 characters. */
  quote: z.string(),
});
export type ReplyContext = z.infer<typeof ReplyContext>;

/** What every message is, wherever it is shown: the fields fixed when it was stored. */
export const MessageFields = z.strictObject({
  id: MessageId,
  from: Sender,
  /** The recipient, or `*` for a broadcast. */
  to: SendTarget,
  body: z.string(),
  /** Unix milliseconds when stored. */
  sent_at: z.number().int(),
  /** The message this one answers (when the sender named one it could see). */
  in_reply_to: MessageId.nullable(),
  /** That message in short, while it is still stored; null otherwise. */
  reply_to: ReplyContext.nullable(),
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

/**
 * `hive.agent.<name>.recv_batch` request: like recv, but leases up to `max` pending messages at
 * once (waiting, when none is pending, for the first).
 */
export const RecvBatchRequest = z.strictObject({
  max: z.number().int().min(1).max(MAX_RECV_BATCH),
  wait_seconds: z.number().min(0).optional(),
  lease_seconds: z.number().min(1).max(3600).optional(),
});
export type RecvBatchRequest = z.infer<typeof RecvBatchRequest>;

export const RecvBatchResponse = z.strictObject({
  /** Oldest first; empty when the wait ran out with nothing pending. */
  messages: z.array(InboxMessage),
  /** Messages still deliverable after these. */
  pending: z.number().int().nonnegative(),
});
export type RecvBatchResponse = z.infer<typeof RecvBatchResponse>;

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

/** Where one recipient's copy of a message stands. */
export const DeliveryState = z.enum([
  /** Waiting for the recipient's recv (never leased, or its lease ran out). */
  "queued",
  /** Handed out by a recv; the turn it drove has not ended yet. */
  "leased",
  /** The turn it drove ended: delivered for good. */
  "acked",
]);
export type DeliveryState = z.infer<typeof DeliveryState>;

/** One recipient's copy of a message (a broadcast has one per recipient). */
export const Receipt = z.strictObject({
  recipient: Recipient,
  state: DeliveryState,
  /** How many times recv leased it out; 2 or more means it was redelivered. */
  deliveries: z.number().int().nonnegative(),
  /** Unix ms of the ack; null until acked. */
  acked_at: z.number().int().nullable(),
});
export type Receipt = z.infer<typeof Receipt>;

/** A stored message as shown in history and the operator's inbox: the message plus its fate. */
export const StoredMessage = MessageFields.extend({
  /** Unix ms when its delivery ended (a broadcast: when its last receipt was acked); else null. */
  acked_at: z.number().int().nullable(),
  /** One per recipient: one for a message to an agent or the operator, one per agent for `*`. */
  receipts: z.array(Receipt),
});
export type StoredMessage = z.infer<typeof StoredMessage>;

/**
 * `hive.op.history` request: stored messages, newest first, paged backwards with `before_id`.
 * Filters combine: `agent` (sent by it or to it, broadcasts included), `thread` (the conversation
 * a message is part of: its in_reply_to chain up and every reply down), a time window.
 */
export const HistoryRequest = z.strictObject({
  agent: Recipient.optional(),
  thread: MessageId.optional(),
  /** Unix ms, inclusive. */
  since: z.number().int().optional(),
  /** Unix ms, exclusive. */
  until: z.number().int().optional(),
  before_id: MessageId.optional(),
  limit: z.number().int().min(1).max(500).optional(),
});
export type HistoryRequest = z.infer<typeof HistoryRequest>;

export const HistoryResponse = z.strictObject({
  messages: z.array(StoredMessage),
  /** Pass as `before_id` for the next (older) page; null when there is none. */
  next_before_id: MessageId.nullable(),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;

/**
 * `hive.events.delivery` event (broker): one recipient's copy of a message changed state
 * (leased, acked, or queued again when a dead incarnation's lease was released).
 */
export const DeliveryEvent = z.strictObject({
  id: MessageId,
  recipient: Recipient,
  state: DeliveryState,
  deliveries: z.number().int().nonnegative(),
  /** Unix ms. */
  at: z.number().int(),
});
export type DeliveryEvent = z.infer<typeof DeliveryEvent>;

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

/** `hive.broadcast` event: a broadcast was committed (announced once, for every recipient). */
export const BroadcastAnnouncement = InboxAnnouncement.extend({
  /** Who got a receipt: every agent on the roster but the sender, at the time of the send. */
  recipients: z.array(AgentName),
});
export type BroadcastAnnouncement = z.infer<typeof BroadcastAnnouncement>;

/** Byte length of a body as the broker counts it against {@link MAX_BODY_BYTES}. */
export function bodyBytes(body: string): number {
  return utf8.encode(body).length;
}

const utf8 = new TextEncoder();

/** First 120 characters of a body, for announcements and lists. */
export function preview(body: string): string {
  return body.length <= 120 ? body : `${body.slice(0, 119)}…`;
}
