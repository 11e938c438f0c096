import { errors, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { z } from "zod";
import { ErrorCode, ErrorReply, HiveError, toWireError } from "./errors.js";
import type { Logger } from "./log.js";
import {
  ApprovalResponse,
  ApprovalsListRequest,
  ApprovalsListResponse,
  ApproveRequest,
  DenyRequest,
} from "./schemas/approvals.js";
import {
  AckRequest,
  AckResponse,
  ExtendRequest,
  ExtendResponse,
  HistoryRequest,
  HistoryResponse,
  InboxListRequest,
  InboxListResponse,
  RecvBatchRequest,
  RecvBatchResponse,
  RecvRequest,
  RecvResponse,
  ReleaseRequest,
  ReleaseResponse,
  SendRequest,
  SendResponse,
} from "./schemas/broker.js";
import {
  AgentLifecycleRequest,
  AgentLifecycleResponse,
  AgentsListRequest,
  AgentsListResponse,
  ApplyCommitRequest,
  PurgeRequest,
  PurgeResponse,
  RestartAllRequest,
  RestartAllResponse,
  Roster,
  RosterRequest,
  SpawnRequest,
} from "./schemas/c0re.js";
import {
  CancelRequest,
  CancelResponse,
  CompactRequest,
  CompactResponse,
  NewSessionRequest,
  NewSessionResponse,
  SetModelRequest,
  SetModelResponse,
} from "./schemas/control.js";
import {
  AgentLogRequest,
  AgentLogResponse,
  FileReadRequest,
  FileReadResponse,
  FilesListRequest,
  FilesListResponse,
} from "./schemas/files.js";
import {
  AnswerRequest,
  AskRequest,
  CancelAskRequest,
  CancelQuestionRequest,
  MyAsksRequest,
  OperatorAnswerRequest,
  OperatorQuestionsRequest,
  OperatorThreadsRequest,
  QuestionResponse,
  QuestionsResponse,
  ThreadsRequest,
  ThreadsResponse,
} from "./schemas/questions.js";
import {
  CancelReminderRequest,
  MyRemindersRequest,
  OperatorCancelReminderRequest,
  OperatorRemindersRequest,
  OperatorRemindRequest,
  ReminderCountsRequest,
  ReminderCountsResponse,
  ReminderResponse,
  RemindersResponse,
  RemindRequest,
  RetryReminderRequest,
} from "./schemas/scheduler.js";

/** A request/reply pair: the schema of the question and of the answer. */
export interface RpcSpec<Req extends z.ZodType, Res extends z.ZodType> {
  readonly request: Req;
  readonly response: Res;
}

function rpc<Req extends z.ZodType, Res extends z.ZodType>(
  request: Req,
  response: Res,
): RpcSpec<Req, Res> {
  return { request, response };
}

/** The catalog: every request/reply on the wire and its schemas. Subjects are in `subjects`. */
export const rpcs = {
  send: rpc(SendRequest, SendResponse),
  recv: rpc(RecvRequest, RecvResponse),
  ack: rpc(AckRequest, AckResponse),
  extend: rpc(ExtendRequest, ExtendResponse),
  release: rpc(ReleaseRequest, ReleaseResponse),
  recvBatch: rpc(RecvBatchRequest, RecvBatchResponse),
  opInbox: rpc(InboxListRequest, InboxListResponse),
  opHistory: rpc(HistoryRequest, HistoryResponse),
  opAgents: rpc(AgentsListRequest, AgentsListResponse),
  opAgentLifecycle: rpc(AgentLifecycleRequest, AgentLifecycleResponse),
  opPurge: rpc(PurgeRequest, PurgeResponse),
  opRestartAll: rpc(RestartAllRequest, RestartAllResponse),
  opApprovals: rpc(ApprovalsListRequest, ApprovalsListResponse),
  opApprove: rpc(ApproveRequest, ApprovalResponse),
  opDeny: rpc(DenyRequest, ApprovalResponse),
  roster: rpc(RosterRequest, Roster),
  /** The manager's verbs (`hive.agent.manager.*`; c0re refuses them from any other agent). */
  spawn: rpc(SpawnRequest, ApprovalResponse),
  agentLifecycle: rpc(AgentLifecycleRequest, AgentLifecycleResponse),
  applyCommit: rpc(ApplyCommitRequest, ApprovalResponse),
  /** The operator's controls of one agent (`hive.op.ctl.<agent>.*`; its harness answers). */
  ctlModel: rpc(SetModelRequest, SetModelResponse),
  ctlCompact: rpc(CompactRequest, CompactResponse),
  ctlNewSession: rpc(NewSessionRequest, NewSessionResponse),
  ctlCancel: rpc(CancelRequest, CancelResponse),
  /** Questions and open threads (c0re): an agent's on `hive.agent.<me>.*`, the operator's on `hive.op.*`. */
  ask: rpc(AskRequest, QuestionResponse),
  answer: rpc(AnswerRequest, QuestionResponse),
  myAsks: rpc(MyAsksRequest, QuestionsResponse),
  cancelAsk: rpc(CancelAskRequest, QuestionResponse),
  threads: rpc(ThreadsRequest, ThreadsResponse),
  opQuestions: rpc(OperatorQuestionsRequest, QuestionsResponse),
  opAnswer: rpc(OperatorAnswerRequest, QuestionResponse),
  opCancelQuestion: rpc(CancelQuestionRequest, QuestionResponse),
  opThreads: rpc(OperatorThreadsRequest, ThreadsResponse),
  /** Reminders (scheduler): an agent's own on `hive.agent.<me>.*`, any agent's on `hive.op.*`. */
  remind: rpc(RemindRequest, ReminderResponse),
  myReminders: rpc(MyRemindersRequest, RemindersResponse),
  cancelReminder: rpc(CancelReminderRequest, ReminderResponse),
  opReminders: rpc(OperatorRemindersRequest, RemindersResponse),
  opRemind: rpc(OperatorRemindRequest, ReminderResponse),
  opCancelReminder: rpc(OperatorCancelReminderRequest, ReminderResponse),
  opRetryReminder: rpc(RetryReminderRequest, ReminderResponse),
  opReminderCounts: rpc(ReminderCountsRequest, ReminderCountsResponse),
  /** An agent's state files and log tail, for the operator (c0re, `hive.op.files.*`). */
  opFilesList: rpc(FilesListRequest, FilesListResponse),
  opFileRead: rpc(FileReadRequest, FileReadResponse),
  opAgentLog: rpc(AgentLogRequest, AgentLogResponse),
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Parses a NATS payload as JSON; a non-JSON payload is a `bad_request`. */
export function decodeJson(data: Uint8Array): unknown {
  const text = decoder.decode(data);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HiveError(ErrorCode.BadRequest, "payload is not valid JSON");
  }
}

/** Parses and validates an event payload; returns null (and logs) if it does not match. */
export function parseEvent<T extends z.ZodType>(
  schema: T,
  msg: Msg,
  log?: Logger,
): z.infer<T> | null {
  try {
    return schema.parse(decodeJson(msg.data));
  } catch (e) {
    log?.warn({ subject: msg.subject, err: toWireError(e) }, "dropped malformed event");
    return null;
  }
}

/** Validates an event against its schema, then publishes it. */
export function publishEvent<T extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: T,
  event: z.input<T>,
): void {
  nc.publish(subject, encodeJson(schema.parse(event)));
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply; default 5000. */
  timeoutMs?: number;
  /** Gives up on the reply at once when aborted (a typed `unavailable`, the reason as its cause). */
  signal?: AbortSignal;
}

/**
 * A failed NATS request as a typed wire error, told apart by the client's own error classes
 * (never by the message text): nobody serving the subject is `unavailable`, no reply in time is
 * `timeout`, a subject we may not use is `forbidden`, a lost or closed connection `unavailable`.
 */
export function natsRequestError(e: unknown, subject: string): HiveError {
  if (
    e instanceof errors.NoRespondersError ||
    (e instanceof errors.RequestError && e.isNoResponders())
  ) {
    return new HiveError(ErrorCode.Unavailable, `no service answers ${subject}`, { cause: e });
  }
  if (e instanceof errors.TimeoutError) {
    return new HiveError(ErrorCode.Timeout, `${subject} did not answer in time`, { cause: e });
  }
  const denied =
    e instanceof errors.PermissionViolationError
      ? e
      : e instanceof errors.RequestError && e.cause instanceof errors.PermissionViolationError
        ? e.cause
        : undefined;
  if (denied) {
    return new HiveError(
      ErrorCode.Forbidden,
      `not permitted to ${denied.operation} ${denied.subject}`,
      {
        cause: e,
      },
    );
  }
  const why = e instanceof Error ? e.message : String(e);
  return new HiveError(ErrorCode.Unavailable, `${subject}: ${why}`, { cause: e });
}

/**
 * Sends a request after validating it, and validates the reply. Throws {@link HiveError} for an
 * error reply, a timeout, no responder or a lost connection, and `unavailable` ("request
 * abandoned") as soon as `signal` aborts.
 */
export async function request<Req extends z.ZodType, Res extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  spec: RpcSpec<Req, Res>,
  payload: z.input<Req>,
  opts: RequestOptions = {},
): Promise<z.infer<Res>> {
  const body = spec.request.parse(payload);
  const signal = opts.signal;
  if (signal?.aborted) {
    throw new HiveError(
      ErrorCode.Unavailable,
      `${subject}: request abandoned (the caller stopped)`,
      {
        cause: signal.reason,
      },
    );
  }
  const asked = nc
    .request(subject, encodeJson(body), { timeout: opts.timeoutMs ?? 5000 })
    .catch((e: unknown) => {
      throw natsRequestError(e, subject);
    });
  let reply: Msg;
  if (signal === undefined) reply = await asked;
  else {
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(
          new HiveError(
            ErrorCode.Unavailable,
            `${subject}: request abandoned (the caller stopped)`,
            {
              cause: signal.reason,
            },
          ),
        );
      signal.addEventListener("abort", onAbort, { once: true });
    });
    asked.catch(() => {});
    try {
      reply = await Promise.race([asked, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  return parseReply(spec.response, reply.data, subject);
}

/** Validates a reply payload: a typed error becomes a thrown HiveError. */
export function parseReply<Res extends z.ZodType>(
  schema: Res,
  data: Uint8Array,
  subject: string,
): z.infer<Res> {
  const raw = decodeJson(data);
  // Only a reply with an `error` member can be one: a failed safeParse builds its issues, which
  // cost every successful request more than the rest of its validation.
  if (typeof raw === "object" && raw !== null && "error" in raw) {
    const err = ErrorReply.safeParse(raw);
    if (err.success) throw HiveError.fromWire(err.data.error);
  }
  const ok = schema.safeParse(raw);
  if (!ok.success) {
    throw new HiveError(ErrorCode.Internal, `reply on ${subject} does not match its schema`, {
      cause: ok.error,
    });
  }
  return ok.data;
}

export interface ServeOptions {
  /** Queue group, so several instances share the load. */
  queue?: string;
  log?: Logger;
}

/** A running request handler; `stop()` drains it and waits for in-flight handlers. */
export interface Service {
  readonly subject: string;
  stop(): Promise<void>;
}

/**
 * Answers requests on `subject`: each payload is parsed with the spec's request schema, the
 * handler's result is checked against the response schema, and any failure is replied as a typed
 * error. Handlers run concurrently (a long-poll does not hold up the next request).
 */
export function serve<Req extends z.ZodType, Res extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  spec: RpcSpec<Req, Res>,
  handler: (req: z.infer<Req>, msg: Msg) => Promise<z.input<Res>> | z.input<Res>,
  opts: ServeOptions = {},
): Service {
  const sub: Subscription = nc.subscribe(subject, opts.queue ? { queue: opts.queue } : {});
  const inflight = new Set<Promise<void>>();

  const answer = async (msg: Msg): Promise<void> => {
    let reply: unknown;
    try {
      const req = spec.request.parse(decodeJson(msg.data));
      reply = spec.response.parse(await handler(req, msg));
    } catch (e) {
      const wire = toWireError(e);
      if (wire.code === ErrorCode.Internal) {
        opts.log?.error({ err: e, subject: msg.subject }, "request handler failed");
      }
      reply = { error: wire };
    }
    if (msg.reply) msg.respond(encodeJson(reply));
  };

  const loop = (async () => {
    for await (const msg of sub) {
      const p = answer(msg).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    subject,
    stop() {
      stopping ??= (async () => {
        if (!sub.isClosed()) await sub.drain();
        await loop;
        await Promise.allSettled([...inflight]);
      })();
      return stopping;
    },
  };
}

/** Replies a typed error to a raw message (for handlers outside {@link serve}). */
export function respondError(msg: Msg, e: unknown): void {
  if (msg.reply) msg.respond(encodeJson({ error: toWireError(e) }));
}
