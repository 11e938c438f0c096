import {
  AgentName,
  ApprovalId,
  Body,
  BROADCAST,
  DenyRequest,
  MessageId,
  OperatorAnswerRequest,
  OperatorRemindersRequest,
  OperatorThreadsRequest,
  PurgeRequest,
  QuestionId,
  Recipient,
  ReminderId,
  RemindRequest,
} from "@hyperhive/shared/contract";
import * as z from "zod";

/** What the API takes: route params, query strings and bodies, each a strict object. */

/** Whom the operator may write to: an agent, or `*` (every agent: a broadcast). */
export const OperatorTarget = z.union([AgentName, z.literal(BROADCAST)]);
export type OperatorTarget = z.infer<typeof OperatorTarget>;

/** `POST /api/send` body: what the form submits. The sender is always the operator. */
export const SendBody = z.strictObject({
  /** An agent, or `*` for every agent (not `operator`: the operator does not mail itself). */
  to: OperatorTarget,
  body: Body,
  /** Makes the submit idempotent; the server makes one when the client sends none. */
  client_id: z.string().min(1).max(128).optional(),
  /** The message this one answers (the broker drops an id the operator could not see). */
  in_reply_to: MessageId.optional(),
});
export type SendBody = z.infer<typeof SendBody>;

/** A positive integer in a query string or a path (digits). */
const Digits = z.coerce.number();

/** `GET /api/inbox` query string (numbers arrive as text). */
export const InboxQuery = z.strictObject({
  /** At most this many messages, newest first. */
  limit: z.coerce.number().int().min(1).max(500).optional(),
  /** Only messages with an id below this one (paging backwards). */
  before_id: Digits.pipe(MessageId).optional(),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

/** `:name` route parameter of the agent routes. */
export const AgentParams = z.strictObject({ name: AgentName });
export type AgentParams = z.infer<typeof AgentParams>;

/**
 * `?all=true`: tombstones too (agents), decided ones too (approvals), closed ones and agents'
 * questions to each other too (questions).
 */
export const AllQuery = z.strictObject({ all: z.stringbool().optional() });
export type AllQuery = z.infer<typeof AllQuery>;

/** The body of an action that takes no arguments: `{}` (anything in it is refused). */
export const EmptyBody = z.strictObject({});
export type EmptyBody = z.infer<typeof EmptyBody>;

/** What the operator may do to an agent's process (c0re's `hive.op.agent.<action>`). */
export const AgentAction = z.enum(["start", "stop", "restart", "destroy"]);
export type AgentAction = z.infer<typeof AgentAction>;

/** `POST /api/agents/:name/:action` parameters. */
export const AgentActionParams = z.strictObject({ name: AgentName, action: AgentAction });

/** `POST /api/agents/:name/purge` body: the name typed again (purging cannot be undone). */
export const PurgeBody = PurgeRequest.pick({ confirm: true });
export type PurgeBody = z.infer<typeof PurgeBody>;

/** `:id` route parameter of the approval routes (digits in the URL). */
export const ApprovalParams = z.strictObject({ id: Digits.pipe(ApprovalId) });

/** `POST /api/approvals/:id/deny` body: an optional reason, told to the submitter. */
export const DenyBody = DenyRequest.pick({ reason: true });
export type DenyBody = z.infer<typeof DenyBody>;

/** `:id` route parameter of the question routes (digits in the URL). */
export const QuestionParams = z.strictObject({ id: Digits.pipe(QuestionId) });

/**
 * `POST /api/questions/:id/answer` body: the operator's answer, as text, as chosen options
 * (several only when the question is multi; c0re checks they are the question's), or both (the
 * text is then the answer, the options only recorded in it by the operator's choice of words).
 */
export const AnswerBody = z
  .strictObject({
    text: OperatorAnswerRequest.shape.text,
    options: OperatorAnswerRequest.shape.options,
  })
  .refine((a) => a.text !== undefined || a.options !== undefined, "give a text, options, or both");
export type AnswerBody = z.infer<typeof AnswerBody>;

/** `GET /api/threads` query string: one agent's open threads (`?agent=`), else the hive's. */
export const ThreadsQuery = OperatorThreadsRequest;
export type ThreadsQuery = z.infer<typeof ThreadsQuery>;

/** A unix-ms instant in a query string (digits). */
const MsQuery = Digits.pipe(z.number().int());

/**
 * `GET /api/history` query string: the broker's `hive.op.history` (newest first, paged back with
 * `before_id`); the filters combine.
 */
export const HistoryQuery = z.strictObject({
  /** Mail sent by or to this recipient (broadcasts it got included). */
  agent: Recipient.optional(),
  /** The conversation this message is part of: its in_reply_to chain up and every reply down. */
  thread: Digits.pipe(MessageId).optional(),
  /** Unix ms, inclusive. */
  since: MsQuery.optional(),
  /** Unix ms, exclusive. */
  until: MsQuery.optional(),
  before_id: Digits.pipe(MessageId).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

/** `/flow` and `/api/flow` query string: only the mail of one recipient (`?agent=`). */
export const FlowQuery = z.strictObject({ agent: Recipient.optional() });
export type FlowQuery = z.infer<typeof FlowQuery>;

/** A query string that takes nothing (anything in it is refused). */
export const NoQuery = z.strictObject({});

/**
 * `GET /api/reminders` query string: the scheduler's `hive.op.reminders`, every agent's or one's
 * (`?agent=`); pending ones soonest first, `?all=true` delivered and cancelled ones after them.
 */
export const RemindersQuery = z.strictObject({
  agent: AgentName.optional(),
  all: z.stringbool().optional(),
  /** At most this many (the scheduler's default 200, at most 1000). */
  limit: Digits.pipe(OperatorRemindersRequest.shape.limit.unwrap()).optional(),
});
export type RemindersQuery = z.infer<typeof RemindersQuery>;

/** `:id` route parameter of the reminder routes (digits in the URL). */
export const ReminderParams = z.strictObject({ id: Digits.pipe(ReminderId) });

/**
 * `POST /api/agents/:name/remind` body: the text and when — exactly one of `in_seconds` or `at`
 * (ISO-8601 with its offset), `every_seconds` (at least 60) to repeat. The agent is the path's;
 * the scheduler records it as set by the operator.
 */
export const RemindBody = RemindRequest;
export type RemindBody = z.infer<typeof RemindBody>;
