import type { z } from "zod";
import { ApiError, api, type SendBody } from "../../wire.js";

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

/** `GET /api/agents`. */
export function fetchAgents() {
  return call(api.agents.path, api.agents.reply);
}

/** `GET /api/inbox` (newest first). */
export function fetchInbox() {
  return call(api.inbox.path, api.inbox.reply);
}

/** `POST /api/send` as the operator. */
export function sendMessage(body: SendBody) {
  return call(api.send.path, api.send.reply, {
    method: api.send.method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(api.send.body.parse(body)),
  });
}
