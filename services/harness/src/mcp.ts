import {
  MAX_RECV_WAIT_SECONDS,
  SocketRecvParams,
  type SocketRecvResult,
  SocketSendParams,
  toWireError,
} from "@hyperhive/shared";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type SocketCaller, socketRequest } from "./socket-client.js";

function text(t: string, isError = false): CallToolResult {
  return { content: [{ type: "text", text: t }], ...(isError ? { isError: true } : {}) };
}

/** A failure claude should see and act on (e.g. "body too large: write a file…"). */
function toolError(e: unknown): CallToolResult {
  const w = toWireError(e);
  return text(`error (${w.code}): ${w.message}`, true);
}

/** Formats a received message for claude, like the wake prompt. */
export function formatRecv(r: SocketRecvResult): string {
  if (!r.message) return "(no messages)";
  const lines = [`from: ${r.message.from}`, "", r.message.body];
  if (r.pending > 0) lines.push("", `(${r.pending} more pending — call recv to drain)`);
  if (r.message.redelivered) {
    lines.push("", "(redelivered: a previous turn on this message did not finish)");
  }
  return lines.join("\n");
}

/** The hyperhive MCP server claude talks to: `send` and `recv`, bridged to the harness socket. */
export function createMcpServer(call: SocketCaller): McpServer {
  const server = new McpServer({ name: "hyperhive", version: "0.1.0" });
  server.registerTool(
    "send",
    {
      description:
        "Message a peer (logical agent name), another agent, or the operator (recipient " +
        "`operator`, surfaces in the dashboard inbox). Bodies over 4 KiB are refused: write the " +
        "content to a file in your state dir and send its path.",
      // The socket's own param schemas: claude sees their constraints, and a bad argument comes
      // back as a tool error before anything is sent.
      inputSchema: {
        to: SocketSendParams.shape.to.describe("Recipient: an agent name or `operator`."),
        body: SocketSendParams.shape.body.describe("The message text (at most 4096 bytes)."),
      },
    },
    async ({ to, body }) => {
      try {
        const r = await call("send", { to, body });
        return text(`sent to ${to} (message ${r.id}${r.duplicate ? ", duplicate" : ""})`);
      } catch (e) {
        return toolError(e);
      }
    },
  );
  server.registerTool(
    "recv",
    {
      description:
        "Drain one inbox message. Long-polls server-side; `wait_seconds` is capped at 180 " +
        "(default 30 when omitted). Use a long wait to park your turn waiting for work instead " +
        "of busy-looping with short polls — you wake instantly when a message arrives.",
      inputSchema: {
        wait_seconds: SocketRecvParams.shape.wait_seconds.describe(
          "Seconds to wait when the inbox is empty (0-180, default 30).",
        ),
      },
    },
    async ({ wait_seconds }) => {
      try {
        const wait =
          wait_seconds === undefined ? undefined : Math.min(wait_seconds, MAX_RECV_WAIT_SECONDS);
        const r = await call("recv", wait === undefined ? {} : { wait_seconds: wait });
        return text(formatRecv(r));
      } catch (e) {
        return toolError(e);
      }
    },
  );
  return server;
}

/** `main.js mcp`: serves the tools on stdio, talking to the harness at `socketPath`. */
export async function runMcpStdio(socketPath: string): Promise<void> {
  const server = createMcpServer((cmd, params) => socketRequest(socketPath, cmd, params));
  const transport = new StdioServerTransport();
  await server.connect(transport);
  // claude closing our stdin (or dying) ends us; an orphaned MCP child must not linger.
  await new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.close();
}
