import { ClaudeStreamEvent, type TurnResultKind } from "@hyperhive/shared";

/** Parses one stdout line of `--output-format stream-json`; null for blank or non-JSON lines. */
export function parseStreamLine(line: string): ClaudeStreamEvent | null {
  const t = line.trim();
  if (t.length === 0) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(t);
  } catch {
    return null;
  }
  const ok = ClaudeStreamEvent.safeParse(raw);
  return ok.success ? ok.data : null;
}

/** Numbers taken from claude's final `result` event. */
export interface ResultSummary {
  isError: boolean;
  subtype: string | null;
  /** The result text (the final answer, or the error). */
  text: string;
  /** claude's `terminal_reason`, e.g. "completed", "api_error", "prompt_too_long". */
  terminalReason: string | null;
  durationMs: number | null;
  numTurns: number;
  totalCostUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  contextWindow: number | null;
}

/** What the turn loop has to do about a finished run. */
export type Outcome = "ok" | "error" | "needs_login" | "prompt_too_long" | "crashed";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
}
function int(v: unknown): number {
  return Math.round(num(v));
}

const NOT_LOGGED_IN = /not logged in|please run \/login|invalid api key|authentication_failed/i;
const TOO_LONG = /prompt is too long/i;

/**
 * Folds one turn's stream-json events into stats: tool calls (unique `tool_use` blocks in
 * `assistant` events, by name), the session id, login failure markers and the `result` event.
 * Pure: feed it events, read it back.
 */
export class StatsAccumulator {
  private readonly toolUseIds = new Set<string>();
  private anonymousToolUses = 0;
  readonly breakdown: Record<string, number> = {};
  sessionId: string | null = null;
  /** An `assistant` event carried `error: "authentication_failed"`. */
  authFailed = false;
  /** Text of assistant messages that carried an `error` field (e.g. the login hint). */
  private readonly errorTexts: string[] = [];
  result: ResultSummary | null = null;

  feed(ev: ClaudeStreamEvent): void {
    if (typeof ev.session_id === "string") this.sessionId = ev.session_id;
    if (ev.type === "assistant") this.feedAssistant(ev);
    else if (ev.type === "result") this.feedResult(ev);
  }

  get toolCalls(): number {
    return this.toolUseIds.size + this.anonymousToolUses;
  }

  private feedAssistant(ev: ClaudeStreamEvent): void {
    const errored = typeof ev.error === "string";
    if (ev.error === "authentication_failed") this.authFailed = true;
    const msg = ev.message;
    if (!isRecord(msg) || !Array.isArray(msg.content)) return;
    for (const block of msg.content) {
      if (!isRecord(block)) continue;
      if (block.type === "tool_use") {
        const id = typeof block.id === "string" ? block.id : null;
        if (id !== null && this.toolUseIds.has(id)) continue;
        if (id !== null) this.toolUseIds.add(id);
        else this.anonymousToolUses++;
        const name = typeof block.name === "string" ? block.name : "unknown";
        this.breakdown[name] = (this.breakdown[name] ?? 0) + 1;
      } else if (errored && block.type === "text" && typeof block.text === "string") {
        this.errorTexts.push(block.text);
      }
    }
  }

  private feedResult(ev: ClaudeStreamEvent): void {
    const usage = isRecord(ev.usage) ? ev.usage : {};
    let contextWindow: number | null = null;
    if (isRecord(ev.modelUsage)) {
      const entries = Object.values(ev.modelUsage).filter(isRecord);
      for (const e of entries) {
        const cw = int(e.contextWindow);
        if (cw > 0) contextWindow = Math.max(contextWindow ?? 0, cw);
      }
    }
    const text =
      typeof ev.result === "string"
        ? ev.result
        : Array.isArray(ev.errors)
          ? ev.errors.map(String).join("; ")
          : "";
    this.result = {
      isError: ev.is_error === true,
      subtype: typeof ev.subtype === "string" ? ev.subtype : null,
      text,
      terminalReason: typeof ev.terminal_reason === "string" ? ev.terminal_reason : null,
      durationMs: typeof ev.duration_ms === "number" ? num(ev.duration_ms) : null,
      numTurns: int(ev.num_turns),
      totalCostUsd: num(ev.total_cost_usd),
      inputTokens: int(usage.input_tokens),
      outputTokens: int(usage.output_tokens),
      cacheReadInputTokens: int(usage.cache_read_input_tokens),
      cacheCreationInputTokens: int(usage.cache_creation_input_tokens),
      contextWindow,
    };
  }

  /**
   * Classifies the run. `exitCode` is claude's; a run with no `result` event crashed unless it
   * showed a login failure.
   */
  outcome(exitCode: number | null): Outcome {
    const r = this.result;
    const texts = [r?.text ?? "", ...this.errorTexts].join("\n");
    if (this.authFailed || (r?.isError === true && NOT_LOGGED_IN.test(texts))) {
      return "needs_login";
    }
    if (r === null) return NOT_LOGGED_IN.test(texts) ? "needs_login" : "crashed";
    if (r.isError && (r.terminalReason === "prompt_too_long" || TOO_LONG.test(texts))) {
      return "prompt_too_long";
    }
    if (r.isError || (exitCode !== null && exitCode !== 0)) return "error";
    return "ok";
  }
}

/** Maps an outcome to the TurnStats/LiveEvent result kind. */
export function resultKind(o: Outcome, compactedRetry: boolean): TurnResultKind {
  switch (o) {
    case "ok":
      return compactedRetry ? "compacted_retry" : "ok";
    case "needs_login":
      return "needs_login";
    case "crashed":
      return "crashed";
    case "prompt_too_long":
    case "error":
      return "error";
  }
}
