import type { AgentName, ApprovalId, QuestionId, ReminderId } from "@hyperhive/shared/contract";
import type { z } from "zod";
import {
  type AgentAction,
  type AnswerBody,
  ApiError,
  api,
  filesApi,
  type HistoryQuery,
  type RemindBody,
  type SendBody,
} from "../../wire.js";

/** Something that went wrong, as the pages show it: `code: message`. */
export interface Problem {
  /** A wire error code, or `http_<status>` / `bad_reply` when the server's answer was not one. */
  code: string;
  message: string;
}

/** A failed API call: the server's typed error, or why its answer could not be used. */
export class ApiFailure extends Error implements Problem {
  override readonly name = "ApiFailure";
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, 0 when the request did not get one. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** Any thrown value as a {@link Problem}. */
export function toProblem(e: unknown): Problem {
  if (e instanceof ApiFailure) return { code: e.code, message: e.message };
  return { code: "network", message: e instanceof Error ? e.message : String(e) };
}

async function readJson(res: Response): Promise<unknown> {
  try {
    const data: unknown = await res.json();
    return data;
  } catch {
    return undefined;
  }
}

/**
 * Calls the API and parses the answer with the route's reply schema from the wire; an error body
 * (the wire's `ApiError`) becomes an {@link ApiFailure} with its code.
 */
async function call<R extends z.ZodType>(
  path: string,
  reply: R,
  init: RequestInit = {},
): Promise<z.infer<R>> {
  const res = await fetch(path, { credentials: "same-origin", ...init });
  const data = await readJson(res);
  if (!res.ok) {
    const err = ApiError.safeParse(data);
    if (err.success) throw new ApiFailure(err.data.error.code, err.data.error.message, res.status);
    throw new ApiFailure(`http_${res.status}`, `HTTP ${res.status} ${res.statusText}`, res.status);
  }
  const ok = reply.safeParse(data);
  if (!ok.success) {
    throw new ApiFailure("bad_reply", `${path}: the reply does not match its schema`, res.status);
  }
  return ok.data;
}

/**
 * POSTs `data` as JSON after checking it against the route's body schema: a body the server would
 * refuse is an {@link ApiFailure} `bad_request` at once, without a round trip.
 */
function post<B extends z.ZodType, R extends z.ZodType>(
  path: string,
  body: B,
  data: z.input<B>,
  reply: R,
): Promise<z.infer<R>> {
  const checked = body.safeParse(data);
  if (!checked.success) {
    const why = checked.error.issues
      .map((i) => [...i.path.map(String), i.message].join(": "))
      .join("; ");
    return Promise.reject(new ApiFailure("bad_request", why, 0));
  }
  return call(path, reply, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(checked.data),
  });
}

/** `GET /api/agents?all=true`: the registry, tombstones included. */
export function fetchAgents() {
  return call(`${api.agents.path}?all=true`, api.agents.reply);
}

/** `GET /api/inbox` (newest first). */
export function fetchInbox() {
  return call(api.inbox.path, api.inbox.reply);
}

/** `GET /api/history` with the query's filters (newest first). */
export function fetchHistory(query: HistoryQuery) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) q.set(k, String(v));
  }
  const qs = q.toString();
  return call(qs === "" ? api.history.path : `${api.history.path}?${qs}`, api.history.reply);
}

/** `GET /api/threads?agent=<name>`: what is still pending against the agent. */
export function fetchThreads(agent: AgentName) {
  return call(`${api.threads.path}?agent=${encodeURIComponent(agent)}`, api.threads.reply);
}

/** `POST /api/questions/<id>/answer` with text, chosen options, or both. */
export function answerQuestion(id: QuestionId, body: AnswerBody) {
  return post(api.answer.url(id), api.answer.body, body, api.answer.reply);
}

/** `POST /api/questions/<id>/cancel`: the asker gets `[cancelled]`. */
export function cancelQuestion(id: QuestionId) {
  return post(api.cancelQuestion.url(id), api.cancelQuestion.body, {}, api.cancelQuestion.reply);
}

/** `POST /api/send` as the operator. */
export function sendMessage(body: SendBody) {
  return post(api.send.path, api.send.body, body, api.send.reply);
}

/** `POST /api/agents/<name>/<action>`: start, stop, restart or destroy an agent. */
export function agentAction(name: AgentName, action: AgentAction) {
  const r = api.agentAction;
  return post(r.url(name, action), r.body, {}, r.reply);
}

/** `POST /api/agents/<name>/purge` with the name typed again. */
export function purgeAgent(name: AgentName, confirm: string) {
  return post(api.purge.url(name), api.purge.body, { confirm }, api.purge.reply);
}

/** `POST /api/restart-all`: answers when every agent has been restarted (minutes, at worst). */
export function restartAll() {
  return post(api.restartAll.path, api.restartAll.body, {}, api.restartAll.reply);
}

/** `POST /api/agents/<name>/model`: the model of its next turns. */
export function setModel(name: AgentName, model: string) {
  return post(api.model.url(name), api.model.body, { model }, api.model.reply);
}

/** `POST /api/agents/<name>/compact`. */
export function compactSession(name: AgentName) {
  return post(api.compact.url(name), api.compact.body, {}, api.compact.reply);
}

/** `POST /api/agents/<name>/new-session`. */
export function newSession(name: AgentName) {
  return post(api.newSession.url(name), api.newSession.body, {}, api.newSession.reply);
}

/** `POST /api/agents/<name>/cancel`: kill its running turn. */
export function cancelTurn(name: AgentName) {
  return post(api.cancel.url(name), api.cancel.body, {}, api.cancel.reply);
}

/** `POST /api/approvals/<id>/approve`. */
export function approve(id: ApprovalId) {
  return post(api.approve.url(id), api.approve.body, {}, api.approve.reply);
}

/** `POST /api/approvals/<id>/deny`, with the reason when there is one. */
export function deny(id: ApprovalId, reason: string) {
  const r = reason.trim();
  return post(api.deny.url(id), api.deny.body, r === "" ? {} : { reason: r }, api.deny.reply);
}

/** `GET /api/reminders?agent=<name>&all=true`: the agent's reminders, finished ones too. */
export function fetchReminders(agent: AgentName) {
  const q = new URLSearchParams({ agent, all: "true" });
  return call(`${api.reminders.path}?${q}`, api.reminders.reply);
}

/** `POST /api/agents/<name>/remind`: a reminder for the agent, set by the operator. */
export function remind(name: AgentName, body: RemindBody) {
  return post(api.remind.url(name), api.remind.body, body, api.remind.reply);
}

/** `POST /api/reminders/<id>/cancel`: no later occurrence lands. */
export function cancelReminder(id: ReminderId) {
  const r = api.cancelReminder;
  return post(r.url(id), r.body, {}, r.reply);
}

/** `POST /api/reminders/<id>/retry`: try a failing one's delivery again now. */
export function retryReminder(id: ReminderId) {
  const r = api.retryReminder;
  return post(r.url(id), r.body, {}, r.reply);
}

/** `GET /api/agents/<name>/files?path=`: one directory of the agent's state dir (c0re reads it). */
export function fetchFiles(agent: AgentName, path?: string, after?: string) {
  return call(filesApi.files.url(agent, path, after), filesApi.files.reply);
}

/** `GET /api/agents/<name>/file?path=`: one file of the agent's state dir, whole. */
export function fetchFile(agent: AgentName, path: string) {
  return call(filesApi.file.url(agent, path), filesApi.file.reply);
}

/**
 * `GET /api/agents/<name>/log?lines=&after=`: the tail of the agent's harness log; with `after` (a
 * previous answer's `end`), of what it gained since.
 */
export function fetchLog(agent: AgentName, lines: number, after?: number) {
  return call(filesApi.log.url(agent, lines, after), filesApi.log.reply);
}

/** `GET /api/shared/files?path=`: one directory of the hive's shared dir (c0re reads it). */
export function fetchSharedFiles(path?: string, after?: string) {
  return call(filesApi.sharedFiles.url(path, after), filesApi.sharedFiles.reply);
}

/** `GET /api/shared/file?path=`: one file of the hive's shared dir, whole. */
export function fetchSharedFile(path: string) {
  return call(filesApi.sharedFile.url(path), filesApi.sharedFile.reply);
}
