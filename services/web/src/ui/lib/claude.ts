/**
 * Views of claude's stream-json lines, for rendering the live turn. The wire passes these lines
 * through as claude wrote them (`ClaudeStreamEvent`: only `type` is fixed), so these schemas are
 * loose on purpose: they pick out the fields the page shows and ignore the rest; a line or block
 * they do not recognise is not shown.
 */
import * as z from "zod";
import { pretty } from "./format.js";

const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const ThinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
const ToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  name: z.string(),
  input: z.unknown(),
});
const ToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  content: z.unknown(),
  is_error: z.boolean().optional(),
});

/** A content block of an assistant or user message. */
export const ContentBlock = z.discriminatedUnion("type", [
  TextBlock,
  ThinkingBlock,
  ToolUseBlock,
  ToolResultBlock,
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

const Message = z.looseObject({ content: z.array(z.unknown()) });

/** The stream-json lines the page renders. */
export const ClaudeLine = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("system"),
    subtype: z.string().optional(),
    model: z.string().optional(),
  }),
  z.looseObject({ type: z.literal("assistant"), message: Message, error: z.string().optional() }),
  z.looseObject({ type: z.literal("user"), message: Message }),
  z.looseObject({
    type: z.literal("result"),
    is_error: z.boolean().optional(),
    duration_ms: z.number().optional(),
    total_cost_usd: z.number().optional(),
    num_turns: z.number().optional(),
    result: z.string().optional(),
    usage: z
      .looseObject({
        input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
        cache_read_input_tokens: z.number().optional(),
      })
      .optional(),
  }),
]);
export type ClaudeLine = z.infer<typeof ClaudeLine>;

/** The blocks of a message that the page knows how to show, in order. */
export function blocks(content: readonly unknown[]): ContentBlock[] {
  const out: ContentBlock[] = [];
  for (const c of content) {
    const b = ContentBlock.safeParse(c);
    if (b.success) out.push(b.data);
  }
  return out;
}

/** A tool result's content as text: text blocks joined, anything else as JSON. */
export function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((c) => {
        const t = TextBlock.safeParse(c);
        return t.success ? t.data.text : pretty(c);
      })
      .join("\n");
  }
  return pretty(content);
}

/** A result line's figures: "2.3 s · $0.0123 · in 1200 · out 80 · cache read 500 · 2 api turns". */
export function resultFigures(r: Extract<ClaudeLine, { type: "result" }>): string {
  const parts: string[] = [];
  const u = r.usage ?? {};
  if (r.duration_ms !== undefined) parts.push(`${(r.duration_ms / 1000).toFixed(1)} s`);
  if (r.total_cost_usd !== undefined) parts.push(`$${r.total_cost_usd.toFixed(4)}`);
  if (u.input_tokens !== undefined) parts.push(`in ${u.input_tokens}`);
  if (u.output_tokens !== undefined) parts.push(`out ${u.output_tokens}`);
  if (u.cache_read_input_tokens !== undefined)
    parts.push(`cache read ${u.cache_read_input_tokens}`);
  if (r.num_turns !== undefined) parts.push(`${r.num_turns} api turns`);
  return parts.join(" · ");
}
