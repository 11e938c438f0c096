/**
 * The Anthropic Messages API wire format, as far as the scripted server needs it: the request
 * schema, what is read from a request, and the bodies written back (JSON message, SSE stream,
 * error). Pure: no sockets, no HTTP objects.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

/** One content block of a request message; only `type` is read, everything else passes through. */
const RequestBlock = z.looseObject({ type: z.string() });

/**
 * The parts of a Messages API request body the server reads; everything else passes through.
 * Loose on purpose: claude sends many keys (metadata, thinking, context_management, ...) and
 * interleaves `role: "system"` messages, and none of that may be refused.
 */
export const MessagesRequest = z.looseObject({
  /** Model id as sent, e.g. `claude-haiku-5-5` for `--model haiku`. */
  model: z.string().default("unknown"),
  /** Whether the answer is an SSE stream; claude always sends true. */
  stream: z.boolean().optional(),
  messages: z.array(
    z.looseObject({
      /** `user`, `assistant`, and (claude 2.1.x) `system`. */
      role: z.string(),
      content: z.union([z.string(), z.array(RequestBlock)]),
    }),
  ),
  /** A string or a list of text blocks. */
  system: z.union([z.string(), z.array(RequestBlock)]).optional(),
  /** Only measured (for the usage estimate), never read. */
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

/** The `text` of a block-like value, "" when it has none. */
function textOf(x: unknown): string {
  return x !== null && typeof x === "object" && "text" in x && typeof x.text === "string"
    ? x.text
    : "";
}

function blockText(b: z.infer<typeof RequestBlock>): string {
  if (b.type === "text") return textOf(b);
  if (b.type === "tool_result") {
    const c = b.content;
    if (typeof c === "string") return c;
    if (Array.isArray(c)) {
      return c
        .map(textOf)
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

/** Longest system prompt text kept in the request log. */
export const SYSTEM_TEXT_MAX = 8000;

/**
 * The request's system prompt text, cut at {@link SYSTEM_TEXT_MAX} chars. claude's
 * `x-anthropic-billing-header:` block is left out: it is not prompt, and it changes per run.
 */
export function systemText(req: MessagesRequest): string {
  const s = req.system;
  const text =
    s === undefined
      ? ""
      : typeof s === "string"
        ? s
        : s
            .map(textOf)
            .filter((t) => t !== "" && !t.startsWith("x-anthropic-billing-header:"))
            .join("\n\n");
  return text.slice(0, SYSTEM_TEXT_MAX);
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

/** One complete answer, written as SSE ({@link sseBody}) or as one JSON message ({@link messageBody}). */
export interface Answer {
  /** `msg_…` */
  id: string;
  model: string;
  content: OutBlock[];
  stop_reason: "end_turn" | "tool_use";
  usage: Usage;
}

/** A fresh message id, `msg_` and 24 hex digits. */
export function newMessageId(): string {
  return `msg_${randomBytes(12).toString("hex")}`;
}

/** A fresh tool_use id, `toolu_` and 24 hex digits. */
export function newToolUseId(): string {
  return `toolu_${randomBytes(12).toString("hex")}`;
}

/** A fresh `request-id` header value. */
export function newRequestId(): string {
  return `req_${randomBytes(8).toString("hex")}`;
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

/** The non-streaming answer body: one `message` object. */
export function messageBody(a: Answer): Record<string, unknown> {
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

/** Size of the text and JSON chunks of a streamed answer: small, so claude sees several deltas. */
const DELTA_CHARS = 64;

function chunks(s: string): string[] {
  if (s === "") return [""];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += DELTA_CHARS) out.push(s.slice(i, i + DELTA_CHARS));
  return out;
}

/**
 * The streaming answer body, as the Messages API sends it: message_start, ping, per block
 * content_block_start / delta(s) / stop (text_delta or input_json_delta), message_delta with
 * stop_reason and usage, message_stop.
 */
export function sseBody(a: Answer): string {
  const out: string[] = [];
  const ev = (type: string, data: Record<string, unknown>): void => {
    out.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  ev("message_start", {
    message: {
      ...messageBody(a),
      content: [],
      stop_reason: null,
      usage: { ...a.usage, output_tokens: 1 },
    },
  });
  ev("ping", {});
  a.content.forEach((b, index) => {
    if (b.type === "text") {
      ev("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const text of chunks(b.text)) {
        ev("content_block_delta", { index, delta: { type: "text_delta", text } });
      }
    } else {
      ev("content_block_start", {
        index,
        content_block: { type: "tool_use", id: b.id, name: b.name, input: {} },
      });
      for (const partial_json of chunks(JSON.stringify(b.input))) {
        ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
      }
    }
    ev("content_block_stop", { index });
  });
  ev("message_delta", {
    delta: { stop_reason: a.stop_reason, stop_sequence: null },
    usage: a.usage,
  });
  ev("message_stop", {});
  return out.join("");
}

/** An Anthropic error body: `{type: "error", error: {type, message}}`. */
export interface ApiErrorBody {
  type: "error";
  error: { type: string; message: string };
}

/** The body of an API error answer. */
export function errorBody(type: string, message: string): ApiErrorBody {
  return { type: "error", error: { type, message } };
}
