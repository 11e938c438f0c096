/** The request log (`GET /_requests`): what each request asked and how it was answered. */

/** How a request was answered. */
export const AnswerKind = {
  /** A rule's reply (its first response). */
  Reply: "reply",
  /** The next response of a rule whose tool call this request answers (found by tool_use id). */
  Continue: "continue",
  /** A rule's API error. */
  Error: "error",
  /** No rule matched: the fallback text, or for a compaction request a summary. */
  Fallback: "fallback",
  /** Not a Messages request (count_tokens). */
  Other: "other",
} as const;
export type AnswerKind = (typeof AnswerKind)[keyof typeof AnswerKind];

/** One entry of the request log. */
export interface RequestLogEntry {
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** `model` of the request body, when it had one. */
  model: string | null;
  /** `stream` of the request body. */
  stream: boolean;
  /** The request's system prompt text (claude's billing-header block left out), cut at 8000 chars. */
  system: string;
  /** Newest user text (system reminders removed; tool results included). */
  text: string;
  /** tool_use ids the newest user message answers. */
  tool_result_ids: string[];
  /** Index of the rule that answered, null for the fallback text or non-message requests. */
  rule: number | null;
  /** How it was answered. */
  kind: AnswerKind;
  /** Whether this was claude's compaction (summary) request. */
  compact: boolean;
  /** The tool calls in the answer (name and input). */
  tool_uses: { name: string; input: unknown }[];
}

/** Where and when a request came. */
export interface RequestMeta {
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path without the query string. */
  path: string;
}

/** The entry of a request that is not a Messages request (count_tokens). */
export function otherEntry(meta: RequestMeta): RequestLogEntry {
  return {
    ...meta,
    model: null,
    stream: false,
    system: "",
    text: "",
    tool_result_ids: [],
    rule: null,
    kind: AnswerKind.Other,
    compact: false,
    tool_uses: [],
  };
}

/** Entries kept; older ones are dropped first. */
export const MAX_LOG_ENTRIES = 2000;

/** The newest {@link MAX_LOG_ENTRIES} entries, oldest first. */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];

  /** Appends an entry, dropping the oldest one past the cap. */
  add(e: RequestLogEntry): void {
    this.#entries.push(e);
    if (this.#entries.length > MAX_LOG_ENTRIES) this.#entries.shift();
  }

  /** A copy of the entries, oldest first; the caller may change it freely. */
  list(): RequestLogEntry[] {
    return this.#entries.map((e) => ({
      ...e,
      tool_result_ids: [...e.tool_result_ids],
      tool_uses: [...e.tool_uses],
    }));
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.length = 0;
  }
}
