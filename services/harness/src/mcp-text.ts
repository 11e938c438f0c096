import { toWireError } from "@hyperhive/shared";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** A tool result claude reads as text. */
export function text(t: string, isError = false): CallToolResult {
  return { content: [{ type: "text", text: t }], ...(isError ? { isError: true } : {}) };
}

/** A failure claude should see and act on, with its wire code (e.g. "error (conflict): …"). */
export function toolError(e: unknown): CallToolResult {
  const w = toWireError(e);
  return text(`error (${w.code}): ${w.message}`, true);
}

/** A tool's answer: the text its work comes to, or the failure as a tool error. */
export async function answer(work: Promise<string>): Promise<CallToolResult> {
  try {
    return text(await work);
  } catch (e) {
    return toolError(e);
  }
}

/** A span of time as people say it: `40 s`, `5 min`, `3 h`, `2 d` (rounded down, never negative). */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
