import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { z } from "zod";

/** The parts of a Messages API request body the server reads; everything else passes through. */
export const MessagesRequest = z.looseObject({
  model: z.string().default("unknown"),
  stream: z.boolean().optional(),
  messages: z.array(
    z.looseObject({
      role: z.string(),
      content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
    }),
  ),
  system: z.unknown().optional(),
  tools: z.unknown().optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequest>;

/** What the server takes from the newest user message. */
export interface NewestUser {
  /** Its text with claude's `<system-reminder>` blocks removed; tool results included. */
  text: string;
  /** ids of the tool calls this message answers (tool_result blocks). */
  toolResultIds: string[];
}

const REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

function blockText(b: Record<string, unknown>): string {
  if (b.type === "text" && typeof b.text === "string") return b.text;
  if (b.type === "tool_result") {
    const c = b.content;
    if (typeof c === "string") return c;
    if (Array.isArray(c)) {
      return c
        .map((x: unknown) =>
          x !== null && typeof x === "object" && typeof (x as { text?: unknown }).text === "string"
            ? (x as { text: string }).text
            : "",
        )
        .filter((t) => t !== "")
        .join("\n");
    }
  }
  return "";
}

/**
 * The newest message with role "user". claude 2.1.x interleaves `role: "system"` messages and
 * puts `<system-reminder>` text blocks in front of the prompt; both are skipped.
 */
export function newestUser(req: MessagesRequest): NewestUser {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role !== "user") continue;
    if (typeof m.content === "string") {
      return { text: m.content.replace(REMINDER, "").trim(), toolResultIds: [] };
    }
    const ids: string[] = [];
    const parts: string[] = [];
    for (const b of m.content) {
      if (b.type === "tool_result" && typeof b.tool_use_id === "string") ids.push(b.tool_use_id);
      const t = blockText(b).replace(REMINDER, "").trim();
      if (t !== "") parts.push(t);
    }
    return { text: parts.join("\n\n"), toolResultIds: ids };
  }
  return { text: "", toolResultIds: [] };
}

/** A content block of an answer. */
export type OutBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

/** Token counts reported for one answer. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** One complete answer, written as SSE or as one JSON message. */
export interface Answer {
  id: string;
  model: string;
  content: OutBlock[];
  stop_reason: "end_turn" | "tool_use";
  usage: Usage;
}

export function newMessageId(): string {
  return `msg_${randomBytes(12).toString("hex")}`;
}

export function newToolUseId(): string {
  return `toolu_${randomBytes(12).toString("hex")}`;
}

/** Rough token estimate: 4 characters a token, at least 1. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

/**
 * Token counts for a request and its answer: the conversation counts as input, system prompt and
 * tools as a cache read (as a warm prompt cache would), the answer's JSON as output.
 */
export function estimateUsage(req: MessagesRequest, content: OutBlock[]): Usage {
  const prefix = JSON.stringify(req.system ?? "").length + JSON.stringify(req.tools ?? []).length;
  return {
    input_tokens: estimateTokens(JSON.stringify(req.messages).length),
    output_tokens: estimateTokens(JSON.stringify(content).length),
    cache_read_input_tokens: estimateTokens(prefix),
    cache_creation_input_tokens: 0,
  };
}

function messageJson(a: Answer): Record<string, unknown> {
  return {
    id: a.id,
    type: "message",
    role: "assistant",
    model: a.model,
    content: a.content,
    stop_reason: a.stop_reason,
    stop_sequence: null,
    usage: a.usage,
  };
}

/** Writes a non-streaming answer. */
export function writeJsonAnswer(res: ServerResponse, a: Answer): void {
  const body = JSON.stringify(messageJson(a));
  res.writeHead(200, { "content-type": "application/json", "request-id": `req_${a.id}` });
  res.end(body);
}

/**
 * Writes a streaming answer as the Messages API does: message_start, ping, per block
 * content_block_start / delta(s) / stop (text_delta or input_json_delta), message_delta with
 * stop_reason and usage, message_stop.
 */
export function writeSseAnswer(res: ServerResponse, a: Answer): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": `req_${a.id}`,
  });
  const ev = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  ev("message_start", {
    message: {
      ...messageJson(a),
      content: [],
      stop_reason: null,
      usage: { ...a.usage, output_tokens: 1 },
    },
  });
  ev("ping", {});
  a.content.forEach((b, index) => {
    if (b.type === "text") {
      ev("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const chunk of chunks(b.text, 64)) {
        ev("content_block_delta", { index, delta: { type: "text_delta", text: chunk } });
      }
    } else {
      ev("content_block_start", {
        index,
        content_block: { type: "tool_use", id: b.id, name: b.name, input: {} },
      });
      for (const chunk of chunks(JSON.stringify(b.input), 64)) {
        ev("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: chunk },
        });
      }
    }
    ev("content_block_stop", { index });
  });
  ev("message_delta", {
    delta: { stop_reason: a.stop_reason, stop_sequence: null },
    usage: a.usage,
  });
  ev("message_stop", {});
  res.end();
}

function chunks(s: string, n: number): string[] {
  if (s === "") return [""];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}

/** Writes an Anthropic-style API error: `{type:"error", error:{type, message}}`. */
export function writeApiError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  retry = false,
): void {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "request-id": `req_${randomBytes(8).toString("hex")}`,
  };
  // Without this claude retries even a 401 ten times with exponential backoff.
  if (!retry) headers["x-should-retry"] = "false";
  res.writeHead(status, headers);
  res.end(JSON.stringify({ type: "error", error: { type, message } }));
}
