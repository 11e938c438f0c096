/**
 * The agent header's figures, read from its live turns: how much of the context window its
 * latest turn filled (claude code's "N tokens"), and how long its last finished turn took.
 */
import * as z from "zod";
import type { Turn } from "../state/turns.js";

const count = z.number().int().nonnegative();

/** One API call's token counts, on an `assistant` line of claude's stream-json. */
const AssistantUsage = z.looseObject({
  type: z.literal("assistant"),
  message: z.looseObject({
    usage: z.looseObject({
      input_tokens: count.optional(),
      output_tokens: count.optional(),
      cache_read_input_tokens: count.optional(),
      cache_creation_input_tokens: count.optional(),
    }),
  }),
});

const ResultTiming = z.looseObject({ type: z.literal("result"), duration_ms: z.number() });

/** The context of the latest API call: what was sent (fresh, read from cache, cached) and said. */
export interface ContextFigures {
  total: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

/** The newest stream line of the turns (newest turn first) that `schema` accepts. */
function newest<T>(turns: readonly Turn[], schema: z.ZodType<T>): T | undefined {
  for (const turn of turns) {
    for (let i = turn.events.length - 1; i >= 0; i--) {
      const e = turn.events[i];
      if (e?.kind !== "stream") continue;
      const r = schema.safeParse(e.event);
      if (r.success) return r.data;
    }
  }
  return undefined;
}

/**
 * The context its latest turn filled: the usage of that turn's last API call (claude's `result`
 * sums every call of the turn, which counts the same context once per call). Null before any.
 */
export function contextOf(turns: readonly Turn[]): ContextFigures | null {
  const u = newest(turns, AssistantUsage)?.message.usage;
  if (u === undefined) return null;
  const f = {
    input: u.input_tokens ?? 0,
    cacheRead: u.cache_read_input_tokens ?? 0,
    cacheWrite: u.cache_creation_input_tokens ?? 0,
    output: u.output_tokens ?? 0,
  };
  return { total: f.input + f.cacheRead + f.cacheWrite + f.output, ...f };
}

/** How long its last finished turn took (claude's `result` duration, ms); null before any. */
export function lastTurnMs(turns: readonly Turn[]): number | null {
  return newest(turns, ResultTiming)?.duration_ms ?? null;
}
