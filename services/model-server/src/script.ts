import { z } from "zod";

/** A regex source that must compile (with the rule's flags checked separately). */
const RegexSource = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a valid JavaScript regular expression" },
);

/** One piece of a scripted reply: a text block. Strings are templated (see renderTemplate). */
export const TextStep = z.strictObject({ text: z.string() });

/** One piece of a scripted reply: a tool call. Every string inside `input` is templated. */
export const ToolUseStep = z.strictObject({
  tool_use: z.strictObject({
    /** Tool name as claude knows it, e.g. `mcp__hyperhive__send`. */
    name: z.string().min(1),
    /** The tool's input object. */
    input: z.record(z.string(), z.unknown()).default({}),
  }),
});

export const Step = z.union([TextStep, ToolUseStep]);
export type Step = z.infer<typeof Step>;

/** Token counts to report instead of the server's estimates; each field optional. */
export const UsageOverride = z.strictObject({
  input_tokens: z.number().int().min(0).optional(),
  output_tokens: z.number().int().min(0).optional(),
  cache_read_input_tokens: z.number().int().min(0).optional(),
  cache_creation_input_tokens: z.number().int().min(0).optional(),
});
export type UsageOverride = z.infer<typeof UsageOverride>;

/** An API error answered instead of a message (e.g. 401 authentication_error, 400 prompt too long). */
export const ErrorReply = z.strictObject({
  /** HTTP status, 400..599. */
  status: z.number().int().min(400).max(599),
  /** Anthropic error type, e.g. `authentication_error`, `invalid_request_error`. */
  type: z.string().min(1),
  /** Error message, e.g. `prompt is too long: 250000 tokens > 200000 maximum`. */
  message: z.string(),
  /**
   * Whether the CLI may retry. Default false: the server sends `x-should-retry: false`, without
   * which claude retries a 401 ten times with backoff (minutes) before giving up.
   */
  retry: z.boolean().default(false),
});
export type ErrorReply = z.infer<typeof ErrorReply>;

/** One scripted rule. Rules are tried in order against the newest user text of a request. */
export const Rule = z
  .strictObject({
    /** Regex (JavaScript syntax) searched for in the newest user text; "" matches anything. */
    match: RegexSource.default(""),
    /** Regex flags, e.g. "i". */
    flags: z
      .string()
      .regex(/^[imsu]*$/, "only the flags i, m, s, u are allowed")
      .default(""),
    /**
     * Which requests the rule sees: "turn" (default) the ordinary ones, "compact" claude's
     * compaction (summary) requests, "any" both.
     */
    on: z.enum(["turn", "compact", "any"]).default("turn"),
    /** How many times the rule may match in total; unlimited when absent. */
    times: z.number().int().positive().optional(),
    /** Wait this long (ms) before answering the matching request. */
    delay_ms: z.number().int().min(0).max(600_000).default(0),
    /** Hold the answer to the matching request until `POST /_release`. */
    hold: z.boolean().default(false),
    /** Reply steps; text steps and tool calls. A tool call ends one API response. */
    reply: z.array(Step).min(1).optional(),
    /** Answer with this API error instead of a reply. */
    error: ErrorReply.optional(),
    /** Token counts to report for this rule's responses. */
    usage: UsageOverride.optional(),
  })
  .refine((r) => (r.reply === undefined) !== (r.error === undefined), {
    message: "a rule needs exactly one of `reply` or `error`",
  });
export type Rule = z.infer<typeof Rule>;
export type RuleInput = z.input<typeof Rule>;

/**
 * A script: a list of rules, or `{rules: [...]}`. A bare list is read as `{rules: list}` (rather
 * than a union of the two shapes) so that a bad rule is named by its path, `rules.N.field`,
 * instead of a union's bare "Invalid input".
 */
export const Script = z
  .preprocess(
    (v) => (Array.isArray(v) ? { rules: v } : v),
    z.strictObject({ rules: z.array(Rule) }),
  )
  .transform((s) => s.rules);
/** What a script may look like before parsing. */
export type ScriptInput = RuleInput[] | { rules: RuleInput[] };

/** Text answered when no rule matches. */
export const FALLBACK_TEXT = "OK.";

/** Text answered to a compaction request no rule matches: the shape claude asks for. */
export const COMPACT_SUMMARY_TEXT =
  "<analysis>Scripted model server: nothing to analyse.</analysis>\n<summary>\n1. Primary Request and Intent: answer the operator's messages.\n2. Pending Tasks: none.\n3. Current Work: waiting for the next message.\n</summary>";

/**
 * Marks the prompt claude sends when it compacts a session (by /compact, or by itself after a
 * "prompt is too long" error): it is appended to the newest user message.
 */
export const COMPACT_MARKER =
  /Your task is to create a detailed summary of the conversation so far/;

/**
 * The default script. An operator message in the wake prompt (`from: operator`, header lines,
 * a blank line, then the body) gets a `mcp__hyperhive__send` back to the operator with
 * `pong: <first line of the body>`, then a short closing text; anything else gets a short text.
 */
export const DEFAULT_SCRIPT: RuleInput[] = [
  {
    // from: operator, then any header lines, a blank line, and the body.
    match:
      "(?:^|\\n)[ \\t]*from:[ \\t]*operator[ \\t]*\\r?\\n(?:[ \\t]*\\S[^\\n]*\\r?\\n)*?[ \\t]*\\r?\\n([\\s\\S]*)",
    reply: [
      {
        tool_use: {
          name: "mcp__hyperhive__send",
          input: { to: "operator", body: "pong: {{match.1|first_line}}" },
        },
      },
      { text: "Replied to the operator." },
    ],
  },
  {
    // Same sender without the blank line: the body starts on the next line.
    match: "(?:^|\\n)[ \\t]*from:[ \\t]*operator[ \\t]*\\r?\\n([\\s\\S]*)",
    reply: [
      {
        tool_use: {
          name: "mcp__hyperhive__send",
          input: { to: "operator", body: "pong: {{match.1|first_line}}" },
        },
      },
      { text: "Replied to the operator." },
    ],
  },
  { match: "", reply: [{ text: "Noted. Nothing to do." }] },
];

/** Parses and validates a script; throws a ZodError on bad input. */
export function parseScript(input: unknown): Rule[] {
  return Script.parse(input);
}

/** What a template can refer to: the matched user text and the regex match. */
export interface TemplateContext {
  /** The newest user text the rule matched against. */
  text: string;
  /** The regex match (index 0 = whole match), null for an empty pattern. */
  match: RegExpExecArray | null;
}

/** First non-blank line, trimmed. */
export function firstLine(s: string): string {
  for (const line of s.split(/\r?\n/)) {
    if (line.trim() !== "") return line.trim();
  }
  return "";
}

const FILTERS: Record<string, (s: string) => string> = {
  first_line: firstLine,
  trim: (s) => s.trim(),
  json: (s) => JSON.stringify(s),
};

function lookup(name: string, ctx: TemplateContext): string {
  if (name === "text") return ctx.text;
  if (name === "first_line") return firstLine(ctx.text);
  if (name.startsWith("match.")) {
    const key = name.slice("match.".length);
    if (/^\d+$/.test(key)) return ctx.match?.[Number(key)] ?? "";
    return ctx.match?.groups?.[key] ?? "";
  }
  return "";
}

/**
 * Replaces `{{name}}` / `{{name|filter|...}}` in `s`. Names: `text` (the matched user text),
 * `first_line` (its first non-blank line), `match.N` (regex group N), `match.NAME` (named
 * group). Filters: `first_line`, `trim`, `json`. Unknown names render as "".
 */
export function renderTemplate(s: string, ctx: TemplateContext): string {
  return s.replace(
    /\{\{\s*([\w.]+)((?:\s*\|\s*\w+)*)\s*\}\}/g,
    (_, name: string, filters: string) => {
      let v = lookup(name, ctx);
      for (const f of filters.split("|").map((x) => x.trim())) {
        if (f === "") continue;
        const fn = FILTERS[f];
        if (fn) v = fn(v);
      }
      return v;
    },
  );
}

/** Templates every string inside a JSON value. */
export function renderDeep(v: unknown, ctx: TemplateContext): unknown {
  if (typeof v === "string") return renderTemplate(v, ctx);
  if (Array.isArray(v)) return v.map((x) => renderDeep(x, ctx));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderDeep(x, ctx)]));
  }
  return v;
}

/**
 * Splits reply steps into API responses: each response runs up to and including a run of
 * consecutive tool calls; the last response holds what follows the last tool call.
 */
export function splitResponses(steps: Step[]): Step[][] {
  const out: Step[][] = [];
  let cur: Step[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    cur.push(s);
    const next = steps[i + 1];
    if ("tool_use" in s && (next === undefined || !("tool_use" in next))) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0 || out.length === 0) out.push(cur);
  return out;
}
