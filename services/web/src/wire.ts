/**
 * The dashboard's own wire: every HTTP API route with its request and reply schemas, and every
 * server-sent event with its payload schema. The server validates what it receives and what it
 * sends with these; the page parses what it receives with the same ones. Browser-safe: it imports
 * only zod and `@hyperhive/shared/contract`.
 */
import {
  AgentInfo,
  AgentLifecycleEvent,
  AgentLifecycleResponse,
  AgentName,
  AgentStateEvent,
  AgentsListResponse,
  Approval,
  ApprovalEvent,
  ApprovalId,
  ApprovalResponse,
  ApprovalsListResponse,
  Body,
  CancelResponse,
  CompactResponse,
  DenyRequest,
  InboxAnnouncement,
  InboxListResponse,
  LiveEvent,
  MessageId,
  NewSessionResponse,
  PurgeRequest,
  PurgeResponse,
  RestartAllResponse,
  SendResponse,
  ServiceEvent,
  SetModelRequest,
  SetModelResponse,
  StoredMessage,
  WireError,
} from "@hyperhive/shared/contract";
import * as z from "zod";

// ---- errors

/** Codes the web adds on top of the wire catalog: HTTP-only failures. */
export const WebErrorCode = {
  /** No operator token, or a wrong one. */
  Unauthorized: "unauthorized",
} as const;
export type WebErrorCode = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/** Every error code an HTTP response of the web may carry: the wire catalog plus `unauthorized`. */
export const HttpErrorCode = z.union([WireError.shape.code, z.literal(WebErrorCode.Unauthorized)]);
export type HttpErrorCode = z.infer<typeof HttpErrorCode>;

/** The JSON body of every API error response; its HTTP status comes from the code. */
export const ApiError = z.strictObject({
  error: z.strictObject({
    code: HttpErrorCode,
    /** One line, safe to show to the operator. */
    message: z.string(),
    /** Whether the same request may succeed if sent again unchanged. */
    retryable: z.boolean(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

// ---- HTTP API

/** `POST /api/send` body: what the form submits. The sender is always the operator. */
export const SendBody = z.strictObject({
  /** The agent to write to (not `operator`: the operator does not mail itself). */
  to: AgentName,
  body: Body,
  /** Makes the submit idempotent; the server makes one when the client sends none. */
  client_id: z.string().min(1).max(128).optional(),
});
export type SendBody = z.infer<typeof SendBody>;

/** `GET /api/inbox` query string (numbers arrive as text). */
export const InboxQuery = z.strictObject({
  /** At most this many messages, newest first. */
  limit: z.coerce.number().int().min(1).max(500).optional(),
  /** Only messages with an id below this one (paging backwards). */
  before_id: z.coerce.number().pipe(MessageId).optional(),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

/** `:name` route parameter of the agent routes. */
export const AgentParams = z.strictObject({ name: AgentName });
export type AgentParams = z.infer<typeof AgentParams>;

/** `?all=true`: tombstones too (agents), decided ones too (approvals). */
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
export const ApprovalParams = z.strictObject({ id: z.coerce.number().pipe(ApprovalId) });

/** `POST /api/approvals/:id/deny` body: an optional reason, told to the submitter. */
export const DenyBody = DenyRequest.pick({ reason: true });
export type DenyBody = z.infer<typeof DenyBody>;

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

/** An approval route: `POST /api/approvals/:id/<verb>`. */
function approvalRoute<B extends z.ZodType>(verb: string, body: B) {
  return {
    method: "POST",
    path: `/api/approvals/:id/${verb}`,
    url: (id: ApprovalId) => `/api/approvals/${id}/${verb}`,
    params: ApprovalParams,
    body,
    reply: ApprovalResponse,
  } as const;
}

/** The JSON routes: path, request schemas and the reply of a 200. */
export const api = {
  /** The agent registry (c0re's `hive.op.agents`); `?all=true` adds the tombstones. */
  agents: { method: "GET", path: "/api/agents", query: AllQuery, reply: AgentsListResponse },
  /** The operator's inbox, newest first (the broker's `hive.op.inbox`). */
  inbox: { method: "GET", path: "/api/inbox", query: InboxQuery, reply: InboxListResponse },
  /** Send as the operator (the broker's `hive.op.send`). */
  send: { method: "POST", path: "/api/send", body: SendBody, reply: SendResponse },

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
} as const;

// ---- server-sent events

/** `snapshot` on `/api/events`: the cold load. A part that failed is null and its error given. */
export const Snapshot = z.strictObject({
  /** Every agent in the registry, tombstones included (`hive.op.agents {all: true}`). */
  agents: z.array(AgentInfo).nullable(),
  inbox: z.array(StoredMessage).nullable(),
  /** The whole approvals queue, newest first, decided ones included. */
  approvals: z.array(Approval).nullable(),
  errors: z.strictObject({
    agents: WireError.nullable(),
    inbox: WireError.nullable(),
    approvals: WireError.nullable(),
  }),
  /** Unix ms of the load. */
  at: z.number().int(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** `ready` on an agent's live stream: subscribed on the server, nothing published after is missed. */
export const LiveReady = z.strictObject({ agent: AgentName, at: z.number().int() });
export type LiveReady = z.infer<typeof LiveReady>;

/** An SSE stream's catalog: event name to payload schema. */
export type EventCatalog = Readonly<Record<string, z.ZodType>>;

/** The payload types of a catalog, by event name. */
export type EventPayloads<C extends EventCatalog> = { [K in keyof C]: z.infer<C[K]> };

/**
 * `GET /api/events`: one `snapshot` (agents, inbox, approvals), then agent `state` and
 * `lifecycle` changes, `inbox` announcements of mail to the operator (the page reloads the inbox
 * for the bodies), every change of an `approval`, and `service` events of `hive up` supervising
 * the hive's services (exits, restarts, give-ups).
 */
export const DashboardEvents = {
  snapshot: Snapshot,
  state: AgentStateEvent,
  lifecycle: AgentLifecycleEvent,
  inbox: InboxAnnouncement,
  approval: ApprovalEvent,
  service: ServiceEvent,
} as const satisfies EventCatalog;

/** `GET /api/agents/:name/live`: `ready` once, then one `live` per event of the agent's turns. */
export const AgentLiveEvents = {
  ready: LiveReady,
  live: LiveEvent,
} as const satisfies EventCatalog;

/** The event streams: route pattern, the URL for one agent, and the event catalog. */
export const streams = {
  events: { path: "/api/events", events: DashboardEvents },
  live: {
    path: "/api/agents/:name/live",
    url: (name: AgentName) => `/api/agents/${encodeURIComponent(name)}/live`,
    params: AgentParams,
    events: AgentLiveEvents,
  },
} as const;

/** The pages; the server renders a shell, the bundled UI fills it. */
export const pages = {
  dashboard: { path: "/" },
  agent: {
    path: "/agents/:name",
    url: (name: AgentName) => `/agents/${encodeURIComponent(name)}`,
    params: AgentParams,
  },
} as const;

/**
 * Which page the shell asks the UI to render: `<main id="app" data-page=… data-agent=…>`. Parsed
 * by the UI at start, so a shell and a bundle that disagree fail loudly.
 */
export const PageData = z.discriminatedUnion("page", [
  z.strictObject({ page: z.literal("dashboard") }),
  z.strictObject({ page: z.literal("agent"), agent: AgentName }),
]);
export type PageData = z.infer<typeof PageData>;
