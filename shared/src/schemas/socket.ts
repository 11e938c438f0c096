import * as z from "zod";
import { WireError } from "../errors.js";
import { AgentName, Recipient, Sender, SendTarget } from "../names.js";
import { ApprovalResponse } from "./approvals.js";
import { Body, MAX_RECV_BATCH, MessageFields, MessageId, SendResponse } from "./broker.js";
import {
  AgentLifecycleRequest,
  AgentLifecycleResponse,
  AgentRole,
  ApplyCommitRequest,
  SpawnRequest,
} from "./c0re.js";
import { ModelName } from "./config.js";
import {
  AnswerRequest,
  AskRequest,
  MyAsksRequest,
  QuestionId,
  QuestionResponse,
  QuestionsResponse,
  ThreadsRequest,
  ThreadsResponse,
} from "./questions.js";
import {
  MyRemindersRequest,
  ReminderId,
  ReminderResponse,
  RemindersResponse,
  RemindRequest,
} from "./scheduler.js";

/**
 * The per-agent unix socket between the harness and processes in its container (the MCP server
 * claude runs, `hive-harness wake`): one JSON object per line each way. Every command has its
 * params and its result schema here; the error half of a reply is the wire error of every
 * request. Both ends parse with these (strictly), so neither re-declares a shape.
 */

/** Correlates a reply line with its request line; chosen by the client. */
export const SocketRequestId = z.number().int();

/** `send`: mail someone as this agent, or every other agent (`to: "*"`, a broadcast). */
export const SocketSendParams = z.strictObject({
  to: SendTarget,
  body: Body,
  /** The message this one answers; the broker drops an id the agent could not see. */
  in_reply_to: MessageId.optional(),
});

/** `recv`: lease the next message (long-poll). */
export const SocketRecvParams = z.strictObject({
  /** Seconds to wait when nothing is pending; default 30, capped at 180. */
  wait_seconds: z.number().min(0).optional(),
});

/**
 * Something an earlier, unfinished turn on a message already did (its harness remembers it in
 * the state dir), so a redelivered or retried message need not be answered twice unknowingly.
 */
export const PreviousAction = z.discriminatedUnion("kind", [
  z.strictObject({
    /** A message it sent. */
    kind: z.literal("sent"),
    id: MessageId,
    to: SendTarget,
    /** The body's first 80 characters. */
    quote: z.string(),
  }),
  z.strictObject({
    /** A question it asked (`ask_operator`, `ask`). */
    kind: z.literal("asked"),
    id: QuestionId,
    to: Recipient,
    /** The question's first 80 characters. */
    quote: z.string(),
  }),
  z.strictObject({
    /** A reminder it set (`remind`). */
    kind: z.literal("reminded"),
    id: ReminderId,
    /** Unix ms of its first due time. */
    due_at: z.number().int(),
    /** The reminder's first 80 characters. */
    quote: z.string(),
  }),
]);
export type PreviousAction = z.infer<typeof PreviousAction>;

/** A message as the agent's tools show it: a wake shows its label as the sender. */
export const SocketMessage = MessageFields.omit({ to: true }).extend({
  redelivered: z.boolean(),
  /** Sent to `*`: every agent got it, and it may need no action from this one. */
  broadcast: z.boolean(),
  /**
   * What earlier turns on this message already sent, asked or set before they died or failed (only
   * when it is redelivered or retried; else empty).
   */
  previous: z.array(PreviousAction),
});
export type SocketMessage = z.infer<typeof SocketMessage>;

export const SocketRecvResult = z.strictObject({
  message: SocketMessage.nullable(),
  /** Messages still deliverable after this one. */
  pending: z.number().int().nonnegative(),
});
export type SocketRecvResult = z.infer<typeof SocketRecvResult>;

/** `recv_batch`: lease up to `max` pending messages at once (long-poll for the first). */
export const SocketRecvBatchParams = z.strictObject({
  max: z.number().int().min(1).max(MAX_RECV_BATCH),
  /** Seconds to wait when nothing is pending; default 30, capped at 180. */
  wait_seconds: z.number().min(0).optional(),
});

export const SocketRecvBatchResult = z.strictObject({
  /** Oldest first; empty when the wait ran out. */
  messages: z.array(SocketMessage),
  /** Messages still deliverable after these. */
  pending: z.number().int().nonnegative(),
});
export type SocketRecvBatchResult = z.infer<typeof SocketRecvBatchResult>;

/** `ask_operator`: ask the operator; answered at once with the question (its id). */
export const SocketAskOperatorParams = AskRequest.omit({ to: true });

/** `ask`: ask another agent, which answers with `answer(id, text)`. */
export const SocketAskParams = AskRequest.omit({ multi: true }).extend({ to: AgentName });

/**
 * `answer`: answer a question put to this agent. The question is `question_id`, not `id`: a
 * request line's `id` is the line's own (see {@link socketCommands}).
 */
export const SocketAnswerParams = z.strictObject({
  question_id: QuestionId,
  text: AnswerRequest.shape.text,
});

/** `cancel_ask`: withdraw one of this agent's own open questions (`question_id`, as for answer). */
export const SocketCancelAskParams = z.strictObject({ question_id: QuestionId });

/**
 * `remind`: set a reminder for this agent (exactly one of `in_seconds` or `at`; `every_seconds`
 * repeats it). The scheduler's own request: none of its fields is a line's `id` or `cmd`.
 */
export const SocketRemindParams = RemindRequest;

/** `list_my_reminders`: this agent's own reminders, pending ones unless `all`. */
export const SocketMyRemindersParams = MyRemindersRequest;

/**
 * `cancel_reminder`: cancel one of this agent's own pending reminders. The reminder is
 * `reminder_id`, not `id`: a request line's `id` is the line's own (see {@link socketCommands}).
 */
export const SocketCancelReminderParams = z.strictObject({ reminder_id: ReminderId });

/** `wake`: put a message from `<label>` in this agent's own inbox (from any process inside). */
export const SocketWakeParams = z.strictObject({
  /** Label shown as the sender, e.g. "webhook: deploy succeeded". */
  from: Sender,
  body: Body,
});

export const SocketWakeResult = z.strictObject({
  /** Id of the inbox message the wake became. */
  id: MessageId,
});

/** `whoami`: who this agent is, as its harness knows it (not as its prompt says). */
export const WhoAmIParams = z.strictObject({});

export const WhoAmI = z.strictObject({
  name: AgentName,
  role: AgentRole,
  /** The model the agent's next turn uses. */
  model: ModelName,
  /** The harness's package version. */
  version: z.string(),
  /** The hyperhive source revision (a git commit) the hive runs, when known. */
  rev: z.string().nullable(),
  /** Unix ms when this harness started. */
  started_at: z.number().int(),
  /** The agent's durable state dir (its cwd; the same path outside its container). */
  state_dir: z.string(),
  /**
   * The hive's shared dir: every agent reads it and writes its own files there (only a file's
   * owner changes or removes it), the operator reads it; null for a harness run outside a hive.
   */
  shared_dir: z.string().nullable(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

/**
 * The catalog: every socket command with its params and result schemas. A request line is
 * `{id, cmd, ...params}` (the params checked strictly against `socketCommands[cmd].params`), so
 * no command has a param named `id` or `cmd`; a new command is one entry here and one handler in
 * the harness.
 */
export const socketCommands = {
  send: { params: SocketSendParams, result: SendResponse },
  recv: { params: SocketRecvParams, result: SocketRecvResult },
  recv_batch: { params: SocketRecvBatchParams, result: SocketRecvBatchResult },
  /** Questions and open threads, bridged to c0re on `hive.agent.<me>.{ask,answer,asks,cancel_ask,threads}`. */
  ask_operator: { params: SocketAskOperatorParams, result: QuestionResponse },
  ask: { params: SocketAskParams, result: QuestionResponse },
  answer: { params: SocketAnswerParams, result: QuestionResponse },
  list_my_asks: { params: MyAsksRequest, result: QuestionsResponse },
  cancel_ask: { params: SocketCancelAskParams, result: QuestionResponse },
  get_open_threads: { params: ThreadsRequest, result: ThreadsResponse },
  /** Reminders, bridged to the scheduler on `hive.agent.<me>.{remind,reminders,cancel_reminder}`. */
  remind: { params: SocketRemindParams, result: ReminderResponse },
  list_my_reminders: { params: SocketMyRemindersParams, result: RemindersResponse },
  cancel_reminder: { params: SocketCancelReminderParams, result: ReminderResponse },
  wake: { params: SocketWakeParams, result: SocketWakeResult },
  whoami: { params: WhoAmIParams, result: WhoAmI },
  /** The manager's verbs, bridged to c0re on `hive.agent.<me>.<verb>` (refused to sub-agents). */
  request_spawn: { params: SpawnRequest, result: ApprovalResponse },
  kill: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  start: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  restart: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  update: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  request_apply_commit: { params: ApplyCommitRequest, result: ApprovalResponse },
} as const;
export type SocketCommands = typeof socketCommands;
export type SocketCommandName = keyof SocketCommands;
export type SocketParams<C extends SocketCommandName> = z.infer<SocketCommands[C]["params"]>;
export type SocketResult<C extends SocketCommandName> = z.infer<SocketCommands[C]["result"]>;

/** One reply line: the result (checked against the command's result schema) or a wire error. */
export const SocketResponse = z.union([
  z.strictObject({ id: SocketRequestId, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: SocketRequestId.nullable(), ok: z.literal(false), error: WireError }),
]);
export type SocketResponse = z.infer<typeof SocketResponse>;
