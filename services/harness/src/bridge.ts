import { randomUUID } from "node:crypto";
import {
  type AgentLifecycleRequest,
  type AgentLifecycleResponse,
  type AgentName,
  type AgentState,
  AgentStateEvent,
  type AnswerRequest,
  type ApplyCommitRequest,
  type ApprovalResponse,
  type AskRequest,
  type CancelAskRequest,
  type CancelReminderRequest,
  LiveEvent,
  type MyAsksRequest,
  type MyRemindersRequest,
  type NatsConnection,
  publishEvent,
  type QuestionResponse,
  type QuestionsResponse,
  type RecvBatchResponse,
  type RecvResponse,
  type ReminderResponse,
  type RemindersResponse,
  type RemindRequest,
  type RpcSpec,
  request,
  rpcs,
  type SendRequest,
  type SendResponse,
  type SpawnRequest,
  subjects,
  type ThreadsResponse,
  TurnStats,
} from "@hyperhive/shared";
import type { z } from "zod";

/** A message the agent sends; the client id is the bridge's to choose. */
export type Outgoing = Omit<SendRequest, "client_id">;

/** The manager's lifecycle verbs on existing sub-agents (no approval). */
export type LifecycleVerb = "kill" | "start" | "restart" | "update";

/** One state event's fields besides the agent. */
export interface StateReport {
  state: AgentState;
  /** Unix ms of the change. */
  since: number;
  /** The model the next turn uses. */
  model: string;
  note?: string | undefined;
}

/**
 * What the harness needs from the hive, as this agent (the {@link NatsBridge} in production).
 * Every request takes a `signal`: a stopping harness gives up waiting at once, and whatever it
 * did not ack simply comes again (at-least-once).
 */
export interface Hive {
  readonly agent: AgentName;
  send(msg: Outgoing, signal?: AbortSignal): Promise<SendResponse>;
  /** Long-polls for the next message and leases it for `leaseSeconds`. */
  recv(waitSeconds: number, leaseSeconds: number, signal?: AbortSignal): Promise<RecvResponse>;
  /** Long-polls for up to `max` messages and leases them all for `leaseSeconds`. */
  recvBatch(
    max: number,
    waitSeconds: number,
    leaseSeconds: number,
    signal?: AbortSignal,
  ): Promise<RecvBatchResponse>;
  /** Ends a message's lease for good; false when it had been acked already. */
  ack(id: number, signal?: AbortSignal): Promise<boolean>;
  /** Keeps leases alive; returns the ids still leased to this agent. */
  extend(ids: number[], leaseSeconds: number, signal?: AbortSignal): Promise<number[]>;
  /** Ends the leases a previous incarnation of this agent still holds. */
  release(signal?: AbortSignal): Promise<number[]>;
  /** The manager's verbs, answered by c0re (which refuses them from anyone else). */
  requestSpawn(req: SpawnRequest, signal?: AbortSignal): Promise<ApprovalResponse>;
  lifecycle(
    verb: LifecycleVerb,
    req: AgentLifecycleRequest,
    signal?: AbortSignal,
  ): Promise<AgentLifecycleResponse>;
  applyCommit(req: ApplyCommitRequest, signal?: AbortSignal): Promise<ApprovalResponse>;
  /** Questions and open threads, answered by c0re (which takes the caller from the subject). */
  ask(req: AskRequest, signal?: AbortSignal): Promise<QuestionResponse>;
  answer(req: AnswerRequest, signal?: AbortSignal): Promise<QuestionResponse>;
  myAsks(req: MyAsksRequest, signal?: AbortSignal): Promise<QuestionsResponse>;
  cancelAsk(req: CancelAskRequest, signal?: AbortSignal): Promise<QuestionResponse>;
  threads(signal?: AbortSignal): Promise<ThreadsResponse>;
  /** Reminders, answered by the scheduler (which takes the owner from the subject). */
  remind(req: RemindRequest, signal?: AbortSignal): Promise<ReminderResponse>;
  myReminders(req: MyRemindersRequest, signal?: AbortSignal): Promise<RemindersResponse>;
  cancelReminder(req: CancelReminderRequest, signal?: AbortSignal): Promise<ReminderResponse>;
  publishState(report: StateReport): void;
  publishLive(ev: LiveEvent): void;
  publishStats(stats: TurnStats): void;
}

/** Room on top of a long-poll's own wait before its request times out. */
const RECV_SLACK_MS = 10_000;
/** A send (the broker commits before it answers) may take a little longer than a plain request. */
const SEND_TIMEOUT_MS = 10_000;
/** c0re queues a spawn after checking the name: quick, but it writes its sqlite. */
const SPAWN_TIMEOUT_MS = 15_000;
/** c0re (questions) and the scheduler answer from their sqlite: quick, but they write (and fsync) first. */
const STORED_TIMEOUT_MS = 10_000;
/** A restart or update stops the harness (a grace of seconds) and starts it again. */
const LIFECYCLE_TIMEOUT_MS = 60_000;
/** c0re fetches the commit from the manager's clone and checks it with git first. */
const APPLY_COMMIT_TIMEOUT_MS = 60_000;

/**
 * Everything the harness says on NATS, as this agent: broker requests on `hive.agent.<me>.*`,
 * and its events (state, live stream, turn stats), each validated against its schema.
 */
export class NatsBridge implements Hive {
  readonly agent: AgentName;
  private readonly nc: NatsConnection;

  constructor(opts: { nc: NatsConnection; agent: AgentName }) {
    this.nc = opts.nc;
    this.agent = opts.agent;
  }

  /** Sends as this agent. A fresh client id makes the harness's own retries idempotent. */
  send(msg: Outgoing, signal?: AbortSignal): Promise<SendResponse> {
    return request(
      this.nc,
      subjects.agent.send(this.agent),
      rpcs.send,
      { ...msg, client_id: randomUUID() },
      { timeoutMs: SEND_TIMEOUT_MS, signal },
    );
  }

  recv(waitSeconds: number, leaseSeconds: number, signal?: AbortSignal): Promise<RecvResponse> {
    return request(
      this.nc,
      subjects.agent.recv(this.agent),
      rpcs.recv,
      { wait_seconds: waitSeconds, lease_seconds: leaseSeconds },
      { timeoutMs: waitSeconds * 1000 + RECV_SLACK_MS, signal },
    );
  }

  recvBatch(
    max: number,
    waitSeconds: number,
    leaseSeconds: number,
    signal?: AbortSignal,
  ): Promise<RecvBatchResponse> {
    return request(
      this.nc,
      subjects.agent.recvBatch(this.agent),
      rpcs.recvBatch,
      { max, wait_seconds: waitSeconds, lease_seconds: leaseSeconds },
      { timeoutMs: waitSeconds * 1000 + RECV_SLACK_MS, signal },
    );
  }

  async ack(id: number, signal?: AbortSignal): Promise<boolean> {
    const r = await request(this.nc, subjects.agent.ack(this.agent), rpcs.ack, { id }, { signal });
    return r.first_ack;
  }

  async extend(ids: number[], leaseSeconds: number, signal?: AbortSignal): Promise<number[]> {
    if (ids.length === 0) return [];
    const r = await request(
      this.nc,
      subjects.agent.extend(this.agent),
      rpcs.extend,
      { ids, lease_seconds: leaseSeconds },
      { signal },
    );
    return r.extended;
  }

  async release(signal?: AbortSignal): Promise<number[]> {
    const r = await request(
      this.nc,
      subjects.agent.release(this.agent),
      rpcs.release,
      {},
      { signal },
    );
    return r.released;
  }

  requestSpawn(req: SpawnRequest, signal?: AbortSignal): Promise<ApprovalResponse> {
    return request(this.nc, subjects.agent.spawn(this.agent), rpcs.spawn, req, {
      timeoutMs: SPAWN_TIMEOUT_MS,
      signal,
    });
  }

  lifecycle(
    verb: LifecycleVerb,
    req: AgentLifecycleRequest,
    signal?: AbortSignal,
  ): Promise<AgentLifecycleResponse> {
    return request(this.nc, subjects.agent[verb](this.agent), rpcs.agentLifecycle, req, {
      timeoutMs: LIFECYCLE_TIMEOUT_MS,
      signal,
    });
  }

  applyCommit(req: ApplyCommitRequest, signal?: AbortSignal): Promise<ApprovalResponse> {
    return request(this.nc, subjects.agent.applyCommit(this.agent), rpcs.applyCommit, req, {
      timeoutMs: APPLY_COMMIT_TIMEOUT_MS,
      signal,
    });
  }

  ask(req: AskRequest, signal?: AbortSignal): Promise<QuestionResponse> {
    return this.#stored(subjects.agent.ask(this.agent), rpcs.ask, req, signal);
  }

  answer(req: AnswerRequest, signal?: AbortSignal): Promise<QuestionResponse> {
    return this.#stored(subjects.agent.answer(this.agent), rpcs.answer, req, signal);
  }

  myAsks(req: MyAsksRequest, signal?: AbortSignal): Promise<QuestionsResponse> {
    return this.#stored(subjects.agent.asks(this.agent), rpcs.myAsks, req, signal);
  }

  cancelAsk(req: CancelAskRequest, signal?: AbortSignal): Promise<QuestionResponse> {
    return this.#stored(subjects.agent.cancelAsk(this.agent), rpcs.cancelAsk, req, signal);
  }

  threads(signal?: AbortSignal): Promise<ThreadsResponse> {
    return this.#stored(subjects.agent.threads(this.agent), rpcs.threads, {}, signal);
  }

  remind(req: RemindRequest, signal?: AbortSignal): Promise<ReminderResponse> {
    return this.#stored(subjects.agent.remind(this.agent), rpcs.remind, req, signal);
  }

  myReminders(req: MyRemindersRequest, signal?: AbortSignal): Promise<RemindersResponse> {
    return this.#stored(subjects.agent.reminders(this.agent), rpcs.myReminders, req, signal);
  }

  cancelReminder(req: CancelReminderRequest, signal?: AbortSignal): Promise<ReminderResponse> {
    return this.#stored(
      subjects.agent.cancelReminder(this.agent),
      rpcs.cancelReminder,
      req,
      signal,
    );
  }

  #stored<Req extends z.ZodType, Res extends z.ZodType>(
    subject: string,
    spec: RpcSpec<Req, Res>,
    req: z.input<Req>,
    signal: AbortSignal | undefined,
  ): Promise<z.infer<Res>> {
    return request(this.nc, subject, spec, req, { timeoutMs: STORED_TIMEOUT_MS, signal });
  }

  publishState(r: StateReport): void {
    publishEvent(this.nc, subjects.events.agentState(this.agent), AgentStateEvent, {
      agent: this.agent,
      state: r.state,
      since: r.since,
      model: r.model,
      ...(r.note === undefined ? {} : { note: r.note }),
    });
  }

  publishLive(ev: LiveEvent): void {
    publishEvent(this.nc, subjects.live(this.agent), LiveEvent, ev);
  }

  publishStats(stats: TurnStats): void {
    publishEvent(this.nc, subjects.turnStats(this.agent), TurnStats, stats);
  }
}
