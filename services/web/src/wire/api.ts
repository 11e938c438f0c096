import {
  AgentLifecycleResponse,
  type AgentName,
  AgentsListResponse,
  ApprovalResponse,
  ApprovalsListResponse,
  CancelResponse,
  CompactResponse,
  HistoryResponse,
  InboxListResponse,
  NewSessionResponse,
  PurgeResponse,
  QuestionResponse,
  QuestionsResponse,
  ReminderCountsResponse,
  ReminderResponse,
  RemindersResponse,
  RestartAllResponse,
  SendResponse,
  SetModelRequest,
  SetModelResponse,
  ThreadsResponse,
} from "@hyperhive/shared/contract";
import type * as z from "zod";
import {
  type AgentAction,
  AgentActionParams,
  AgentParams,
  AllQuery,
  AnswerBody,
  ApprovalParams,
  DenyBody,
  EmptyBody,
  HistoryQuery,
  InboxQuery,
  NoQuery,
  PurgeBody,
  QuestionParams,
  RemindBody,
  ReminderParams,
  RemindersQuery,
  SendBody,
  ThreadsQuery,
} from "./requests.js";

const agentUrl = (name: AgentName, verb: string) =>
  `/api/agents/${encodeURIComponent(name)}/${verb}`;

/** An agent route: `POST /api/agents/:name/<verb>`, its URL for one agent, and its schemas. */
function agentRoute<B extends z.ZodType, R extends z.ZodType>(verb: string, body: B, reply: R) {
  return {
    method: "POST",
    path: `/api/agents/:name/${verb}`,
    url: (name: AgentName) => agentUrl(name, verb),
    params: AgentParams,
    body,
    reply,
  } as const;
}

/** A route on one numbered thing: `POST /api/<things>/:id/<verb>` and the URL for one id. */
function idRoute<P extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  things: string,
  verb: string,
  schemas: { params: P; body: B; reply: R },
) {
  return {
    method: "POST",
    path: `/api/${things}/:id/${verb}`,
    url: (id: number) => `/api/${things}/${id}/${verb}`,
    ...schemas,
  } as const;
}

/** An approval route: `POST /api/approvals/:id/<verb>`. */
const approvalRoute = <B extends z.ZodType>(verb: string, body: B) =>
  idRoute("approvals", verb, { params: ApprovalParams, body, reply: ApprovalResponse });

/** A question route: `POST /api/questions/:id/<verb>`. */
const questionRoute = <B extends z.ZodType>(verb: string, body: B) =>
  idRoute("questions", verb, { params: QuestionParams, body, reply: QuestionResponse });

/** A reminder route: `POST /api/reminders/:id/<verb>`. */
const reminderRoute = (verb: string) =>
  idRoute("reminders", verb, { params: ReminderParams, body: EmptyBody, reply: ReminderResponse });

/** The JSON routes: path, request schemas and the reply of a 200. */
export const api = {
  /** The agent registry (c0re's `hive.op.agents`); `?all=true` adds the tombstones. */
  agents: { method: "GET", path: "/api/agents", query: AllQuery, reply: AgentsListResponse },
  /** The operator's inbox, newest first (the broker's `hive.op.inbox`). */
  inbox: { method: "GET", path: "/api/inbox", query: InboxQuery, reply: InboxListResponse },
  /** Send as the operator (the broker's `hive.op.send`); `to: "*"` is a broadcast. */
  send: { method: "POST", path: "/api/send", body: SendBody, reply: SendResponse },
  /** Stored messages with their receipts, newest first (the broker's `hive.op.history`). */
  history: { method: "GET", path: "/api/history", query: HistoryQuery, reply: HistoryResponse },

  /** Start, stop, restart or destroy (leave a tombstone of) an agent: c0re's `hive.op.agent.*`. */
  agentAction: {
    method: "POST",
    path: "/api/agents/:name/:action",
    url: (name: AgentName, action: AgentAction) => agentUrl(name, action),
    params: AgentActionParams,
    body: EmptyBody,
    reply: AgentLifecycleResponse,
  },
  /** Delete a tombstone's state dir and free its name (c0re's `hive.op.agent.purge`). */
  purge: agentRoute("purge", PurgeBody, PurgeResponse),
  /** Restart every agent, the manager first (c0re's `hive.op.restart_all`); takes a while. */
  restartAll: {
    method: "POST",
    path: "/api/restart-all",
    body: EmptyBody,
    reply: RestartAllResponse,
  },

  /** The operator's controls of one agent, answered by its harness on `hive.op.ctl.<agent>.*`. */
  model: agentRoute("model", SetModelRequest, SetModelResponse),
  compact: agentRoute("compact", EmptyBody, CompactResponse),
  newSession: agentRoute("new-session", EmptyBody, NewSessionResponse),
  cancel: agentRoute("cancel", EmptyBody, CancelResponse),

  /** The approvals queue, newest first (c0re's `hive.op.approvals`); `?all=true`: decided too. */
  approvals: {
    method: "GET",
    path: "/api/approvals",
    query: AllQuery,
    reply: ApprovalsListResponse,
  },
  /** Approve one (c0re's `hive.op.approve`): c0re carries it out and tells the submitter. */
  approve: approvalRoute("approve", EmptyBody),
  /** Deny one, with an optional reason (c0re's `hive.op.deny`). */
  deny: approvalRoute("deny", DenyBody),

  /**
   * Questions put to the operator, open first, newest first (c0re's `hive.op.questions`);
   * `?all=true`: closed ones and agents' questions to each other too.
   */
  questions: { method: "GET", path: "/api/questions", query: AllQuery, reply: QuestionsResponse },
  /** Answer one put to the operator (c0re's `hive.op.answer`); the asker gets it by mail. */
  answer: questionRoute("answer", AnswerBody),
  /** Cancel any open question (c0re's `hive.op.cancel_question`): the asker gets `[cancelled]`. */
  cancelQuestion: questionRoute("cancel", EmptyBody),
  /** What is still pending against one agent (`?agent=`), or the whole hive (`hive.op.threads`). */
  threads: { method: "GET", path: "/api/threads", query: ThreadsQuery, reply: ThreadsResponse },

  /**
   * Reminders (the scheduler's `hive.op.reminders`): every agent's or one's (`?agent=`), pending
   * ones soonest first; `?all=true` adds delivered and cancelled ones; `?limit=` at most 1000.
   */
  reminders: {
    method: "GET",
    path: "/api/reminders",
    query: RemindersQuery,
    reply: RemindersResponse,
  },
  /** Each agent's pending, delivered and failing reminders (`hive.op.reminder_counts`). */
  reminderCounts: {
    method: "GET",
    path: "/api/reminders/counts",
    query: NoQuery,
    reply: ReminderCountsResponse,
  },
  /** Set a reminder for an agent as the operator (`hive.op.remind`); refusals say the limit. */
  remind: agentRoute("remind", RemindBody, ReminderResponse),
  /** Cancel any pending reminder: no later occurrence lands (`hive.op.cancel_reminder`). */
  cancelReminder: reminderRoute("cancel"),
  /** Try a failing reminder's delivery again now (`hive.op.retry_reminder`). */
  retryReminder: reminderRoute("retry"),
} as const;
