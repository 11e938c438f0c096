import {
  AgentInfo,
  AgentLifecycleEvent,
  AgentName,
  AgentStateEvent,
  Approval,
  ApprovalEvent,
  DeliveryEvent,
  InboxAnnouncement,
  LiveEvent,
  MessageId,
  Question,
  QuestionEvent,
  type Recipient,
  Reminder,
  ReminderCounts,
  ReminderEvent,
  ServiceEvent,
  StoredMessage,
  WireError,
} from "@hyperhive/shared/contract";
import * as z from "zod";
import { AgentParams, FlowQuery } from "./requests.js";

/**
 * The reminders part of the dashboard's snapshot (the scheduler): what the agents' chips and
 * banners need.
 */
export const RemindersSnapshot = z.strictObject({
  /** Each agent's counts (`hive.op.reminder_counts`); an agent without reminders has none. */
  counts: z.array(ReminderCounts),
  /**
   * The pending reminders whose delivery failed and waits for a retry, with their last error,
   * attempts and next try: those among the first {@link SNAPSHOT_PENDING_LIMIT} pending ones,
   * soonest due first (a failing one is overdue, so it is among the first). An agent's
   * `counts.failing` says how many there are in all.
   */
  failing: z.array(Reminder),
});
export type RemindersSnapshot = z.infer<typeof RemindersSnapshot>;

/** How many pending reminders the snapshot asks for to find the failing ones (the most allowed). */
export const SNAPSHOT_PENDING_LIMIT = 1000;

/** `snapshot` on `/api/events`: the cold load. A part that failed is null and its error given. */
export const Snapshot = z.strictObject({
  /** Every agent in the registry, tombstones included (`hive.op.agents {all: true}`). */
  agents: z.array(AgentInfo).nullable(),
  inbox: z.array(StoredMessage).nullable(),
  /** The whole approvals queue, newest first, decided ones included. */
  approvals: z.array(Approval).nullable(),
  /** Every question c0re keeps (`hive.op.questions {all: true}`): the operator's and agents'. */
  questions: z.array(Question).nullable(),
  /** Reminder counts and failing reminders (the scheduler). */
  reminders: RemindersSnapshot.nullable(),
  errors: z.strictObject({
    agents: WireError.nullable(),
    inbox: WireError.nullable(),
    approvals: WireError.nullable(),
    questions: WireError.nullable(),
    reminders: WireError.nullable(),
  }),
  /** Unix ms of the load. */
  at: z.number().int(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** `ready` on an agent's live stream: after its `history`; every later event comes as `live`. */
export const LiveReady = z.strictObject({ agent: AgentName, at: z.number().int() });
export type LiveReady = z.infer<typeof LiveReady>;

/**
 * `history` on an agent's live stream: the events of its recent turns the web keeps (oldest
 * first; see `TurnHistory`), sent once on connect, before `ready` and the `live` events after.
 */
export const LiveHistory = z.strictObject({ agent: AgentName, events: z.array(LiveEvent) });
export type LiveHistory = z.infer<typeof LiveHistory>;

/** An SSE stream's catalog: event name to payload schema. */
export type EventCatalog = Readonly<Record<string, z.ZodType>>;

/** The payload types of a catalog, by event name. */
export type EventPayloads<C extends EventCatalog> = { [K in keyof C]: z.infer<C[K]> };

/**
 * `GET /api/events`: one `snapshot` (agents, inbox, approvals, questions, reminder counts and
 * failing reminders), then agent `state` and `lifecycle` changes, `inbox` announcements of mail
 * to the operator (the page reloads the inbox for the bodies), every change of an `approval` and
 * of a `question` (asked, answered, expired, cancelled; the operator's and agents'), every change
 * of a `reminder` (set, delivered, a failed try, retried, cancelled) with its owner's counts after
 * it, and `service` events of `hive up` supervising the hive's services (exits, restarts,
 * give-ups).
 */
export const DashboardEvents = {
  snapshot: Snapshot,
  state: AgentStateEvent,
  lifecycle: AgentLifecycleEvent,
  inbox: InboxAnnouncement,
  approval: ApprovalEvent,
  question: QuestionEvent,
  reminder: ReminderEvent,
  service: ServiceEvent,
} as const satisfies EventCatalog;

/** `snapshot` on `/api/flow`: the newest page of history (`hive.op.history`), or why not. */
export const FlowSnapshot = z.strictObject({
  /** Newest first; null when the broker did not answer. */
  messages: z.array(StoredMessage).nullable(),
  /** Where the next (older) page starts; null when there is none. */
  next_before_id: MessageId.nullable(),
  error: WireError.nullable(),
  /** Unix ms of the load. */
  at: z.number().int(),
});
export type FlowSnapshot = z.infer<typeof FlowSnapshot>;

/**
 * `GET /api/flow`: the message flow. One `snapshot` (the newest page of history), then every
 * new message — unicast (`hive.inbox.*`) or broadcast (`hive.broadcast`) — as a `message` with
 * its receipts and reply context (looked up in the broker's history, in the order announced),
 * and every `delivery` change of a receipt (`hive.events.delivery`: leased, acked, queued again).
 */
export const FlowEvents = {
  snapshot: FlowSnapshot,
  message: StoredMessage,
  delivery: DeliveryEvent,
} as const satisfies EventCatalog;

/**
 * `GET /api/agents/:name/live`: `history` once (the agent's recent turns as the web kept them),
 * `ready` once, then one `live` per later event of the agent's turns: none missed, none repeated.
 */
export const AgentLiveEvents = {
  history: LiveHistory,
  ready: LiveReady,
  live: LiveEvent,
} as const satisfies EventCatalog;

/** `?agent=<name>` for one recipient's part of a URL, or nothing. */
export const agentQuery = (agent?: Recipient) =>
  agent === undefined ? "" : `?agent=${encodeURIComponent(agent)}`;

/** The event streams: route pattern, the URL for one agent, and the event catalog. */
export const streams = {
  events: { path: "/api/events", events: DashboardEvents },
  live: {
    path: "/api/agents/:name/live",
    url: (name: AgentName) => `/api/agents/${encodeURIComponent(name)}/live`,
    params: AgentParams,
    events: AgentLiveEvents,
  },
  flow: {
    path: "/api/flow",
    url: (agent?: Recipient) => `/api/flow${agentQuery(agent)}`,
    query: FlowQuery,
    events: FlowEvents,
  },
} as const;
