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
