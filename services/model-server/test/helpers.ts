/** Test helpers: Messages API request bodies and an SSE parser. */

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Parses an SSE body into its events; checks that `event:` and `data.type` agree. */
export function parseSse(body: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const frame of body.split("\n\n")) {
    if (frame.trim() === "") continue;
    let event = "";
    let data = "";
    for (const line of frame.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    const parsed = JSON.parse(data) as Record<string, unknown>;
    if (parsed.type !== event) throw new Error(`event ${event} carries data.type ${parsed.type}`);
    out.push({ event, data: parsed });
  }
  return out;
}

/** A user message in the shape claude sends: a system-reminder block, then the prompt. */
export function userPrompt(text: string): Record<string, unknown> {
  return {
    role: "user",
    content: [
      { type: "text", text: "<system-reminder>\nSome reminder from claude.\n</system-reminder>\n" },
      { type: "text", text },
    ],
  };
}

/** A user message answering one tool call. */
export function toolResult(toolUseId: string, text: string): Record<string, unknown> {
  return {
    role: "user",
    content: [{ type: "tool_result", tool_use_id: toolUseId, content: [{ type: "text", text }] }],
  };
}

/** A Messages API request body in the shape claude sends (fewer keys). */
export function messagesBody(messages: unknown[], stream = true) {
  return {
    model: "claude-haiku-test",
    max_tokens: 1000,
    stream,
    system: [{ type: "text", text: "You are a test." }],
    tools: [],
    messages,
  };
}

/** POSTs a Messages API request. */
export async function postMessages(
  url: string,
  messages: unknown[],
  stream = true,
): Promise<Response> {
  return fetch(`${url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "sk-test" },
    body: JSON.stringify(messagesBody(messages, stream)),
  });
}
