/**
 * The rule engine: given the script state and a parsed Messages request, decides the answer and
 * the request-log entry. Pure: no I/O, no timers, no HTTP objects. Waiting (hold, delay) is only
 * described here; the HTTP side does it.
 */
import {
  type Answer,
  estimateUsage,
  type MessagesRequest,
  newestUser,
  newMessageId,
  newToolUseId,
  type OutBlock,
  systemText,
} from "./anthropic.js";
import { AnswerKind, type RequestLogEntry, type RequestMeta } from "./request-log.js";
import {
  COMPACT_MARKER,
  COMPACT_SUMMARY_TEXT,
  type ErrorReply,
  FALLBACK_TEXT,
  type Rule,
  renderDeep,
  renderTemplate,
  type Step,
  splitResponses,
  type TemplateContext,
  type UsageOverride,
} from "./script.js";

/** Where the engine gets message and tool_use ids; tests pass a predictable one. */
export interface IdSource {
  message(): string;
  toolUse(): string;
}

/** Random ids, shaped as the real API's. */
export const RANDOM_IDS: IdSource = { message: newMessageId, toolUse: newToolUseId };

/** What the answer is. */
export type Outcome =
  /** A message (text and tool_use blocks), as SSE when `stream`, else as one JSON body. */
  | { type: "message"; answer: Answer; stream: boolean }
  /** An API error, its message templated. */
  | { type: "error"; error: ErrorReply };

/** The engine's answer to one request. */
export interface Decision {
  /** The request-log entry, complete (tool_uses included). */
  entry: RequestLogEntry;
  /** Park the answer until released: the matching rule's `hold` (never for a continuation). */
  hold: boolean;
  /** Wait this long (ms) before answering: the matching rule's `delay_ms` (0 for a continuation). */
  delayMs: number;
  outcome: Outcome;
}

/** The remaining responses of a rule whose tool call awaits its tool_result. */
interface Continuation {
  /** Index of the rule. */
  rule: number;
  /** The tool calls of the response it continues: the result of any one of them consumes it. */
  toolUseIds: string[];
  ctx: TemplateContext;
  rest: Step[][];
  usage: UsageOverride | undefined;
}

/**
 * Pending tool calls remembered. A tool call whose result never comes (claude killed, the
 * answer held and dropped) would otherwise stay forever; the oldest go first.
 */
export const MAX_PENDING_TOOL_CALLS = 1000;

/** Text of the last response of a rule whose reply ended with a tool call. */
export const DONE_TEXT = "Done.";

/** Options of {@link ScriptEngine}. */
export interface ScriptEngineOptions {
  /** Parsed rules (see `parseScript`); default none, so every request gets the fallback. */
  rules?: readonly Rule[];
  /** Default {@link RANDOM_IDS}. */
  ids?: IdSource;
}

/**
 * The script state: the rules, how often each has matched, and the pending tool calls whose
 * results continue a rule's reply. {@link decide} is the whole of the scripting logic.
 */
export class ScriptEngine {
  #rules: readonly Rule[] = [];
  #patterns: RegExp[] = [];
  #counts: number[] = [];
  readonly #pending = new Map<string, Continuation>();
  readonly #ids: IdSource;

  constructor(opts: ScriptEngineOptions = {}) {
    this.#ids = opts.ids ?? RANDOM_IDS;
    this.load(opts.rules ?? []);
  }

  /** How many rules the script has. */
  get ruleCount(): number {
    return this.#rules.length;
  }

  /** How many tool calls await their result. */
  get pendingToolCalls(): number {
    return this.#pending.size;
  }

  /** Replaces the rules; resets the match counters and forgets pending tool calls. */
  load(rules: readonly Rule[]): void {
    this.#rules = rules;
    // Flags are limited to imsu (no g or y), so a compiled pattern keeps no state between exec()s.
    this.#patterns = rules.map((r) => new RegExp(r.match, r.flags));
    this.#counts = rules.map(() => 0);
    this.#pending.clear();
  }

  /**
   * Decides the answer to a Messages request: the continuation of a pending tool call when the
   * request carries its result, else the first rule that matches (counting it), else the fallback
   * (for a compaction request, a summary). Remembers the tool calls of the answer.
   */
  decide(req: MessagesRequest, meta: RequestMeta): Decision {
    const user = newestUser(req);
    const compact = COMPACT_MARKER.test(user.text);
    const entry: RequestLogEntry = {
      ...meta,
      model: req.model,
      stream: req.stream === true,
      system: systemText(req),
      text: user.text,
      tool_result_ids: user.toolResultIds,
      rule: null,
      kind: AnswerKind.Fallback,
      compact,
      tool_uses: [],
    };

    // A compaction request may carry the tool_result of a pending call; it is not its continuation.
    const contId = compact ? undefined : user.toolResultIds.find((id) => this.#pending.has(id));
    const cont = contId === undefined ? undefined : this.#pending.get(contId);
    if (cont !== undefined) {
      for (const id of [...cont.toolUseIds, ...user.toolResultIds]) this.#pending.delete(id);
      entry.rule = cont.rule;
      entry.kind = AnswerKind.Continue;
      const [steps = [], ...rest] = cont.rest;
      return this.#message(req, entry, cont.ctx, steps.length > 0 ? steps : [{ text: DONE_TEXT }], {
        rule: cont.rule,
        rest,
        usage: cont.usage,
      });
    }

    const found = this.#match(user.text, compact);
    if (found === undefined) {
      const text = compact ? COMPACT_SUMMARY_TEXT : FALLBACK_TEXT;
      return this.#message(req, entry, { text: user.text, match: null }, [{ text }]);
    }
    const { index, rule, ctx } = found;
    entry.rule = index;
    const wait = { hold: rule.hold, delayMs: rule.delay_ms };
    if (rule.error !== undefined) {
      entry.kind = AnswerKind.Error;
      const error = { ...rule.error, message: renderTemplate(rule.error.message, ctx) };
      return { entry, ...wait, outcome: { type: "error", error } };
    }
    entry.kind = AnswerKind.Reply;
    const [steps = [], ...rest] = splitResponses(rule.reply ?? []);
    const decision = this.#message(req, entry, ctx, steps, {
      rule: index,
      rest,
      usage: rule.usage,
    });
    return { ...decision, ...wait };
  }

  /** The first rule that applies to this kind of request, has matches left and matches; counted. */
  #match(
    text: string,
    compact: boolean,
  ): { index: number; rule: Rule; ctx: TemplateContext } | undefined {
    for (const [index, rule] of this.#rules.entries()) {
      if (rule.on !== "any" && rule.on !== (compact ? "compact" : "turn")) continue;
      const used = this.#counts[index] ?? 0;
      if (rule.times !== undefined && used >= rule.times) continue;
      const m = this.#patterns[index]?.exec(text);
      if (!m) continue;
      this.#counts[index] = used + 1;
      return { index, rule, ctx: { text, match: rule.match === "" ? null : m } };
    }
    return undefined;
  }

  /**
   * A message answer of `steps`, rendered. When `from` (a rule) is given and the answer calls
   * tools, the rule's remaining responses wait for their results.
   */
  #message(
    req: MessagesRequest,
    entry: RequestLogEntry,
    ctx: TemplateContext,
    steps: Step[],
    from?: { rule: number; rest: Step[][]; usage: UsageOverride | undefined },
  ): Decision {
    const content: OutBlock[] = steps.map((s) =>
      "text" in s
        ? { type: "text", text: renderTemplate(s.text, ctx) }
        : {
            type: "tool_use",
            id: this.#ids.toolUse(),
            name: s.tool_use.name,
            input: renderDeep(s.tool_use.input, ctx),
          },
    );
    const toolUses = content.filter((b) => b.type === "tool_use");
    entry.tool_uses = toolUses.map((b) => ({ name: b.name, input: b.input }));
    if (from !== undefined) {
      const toolUseIds = toolUses.map((b) => b.id);
      const c: Continuation = {
        rule: from.rule,
        toolUseIds,
        ctx,
        rest: from.rest,
        usage: from.usage,
      };
      for (const id of toolUseIds) this.#remember(id, c);
    }
    const answer: Answer = {
      id: this.#ids.message(),
      model: req.model,
      content,
      stop_reason: toolUses.length > 0 ? "tool_use" : "end_turn",
      usage: { ...estimateUsage(req, content), ...from?.usage },
    };
    return {
      entry,
      hold: false,
      delayMs: 0,
      outcome: { type: "message", answer, stream: req.stream === true },
    };
  }

  #remember(toolUseId: string, c: Continuation): void {
    this.#pending.set(toolUseId, c);
    // A Map iterates in insertion order: the first key is the oldest.
    for (const oldest of this.#pending.keys()) {
      if (this.#pending.size <= MAX_PENDING_TOOL_CALLS) break;
      this.#pending.delete(oldest);
    }
  }
}
