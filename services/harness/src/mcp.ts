import {
  type AgentRole,
  MAX_RECV_WAIT_SECONDS,
  SocketRecvParams,
  type SocketRecvResult,
  SocketSendParams,
} from "@hyperhive/shared";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { registerManagerTools } from "./mcp-manager.js";
import { answer } from "./mcp-text.js";
import { type SocketCaller, socketRequest } from "./socket-client.js";
import { harnessVersion } from "./version.js";

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

/**
 * The hyperhive MCP server claude talks to, every tool bridged to the harness socket: `send`,
 * `recv` and `whoami` for every agent, and the manager's verbs only when `role` is manager.
 */
export function createMcpServer(call: SocketCaller, role: AgentRole): McpServer {
  const server = new McpServer({ name: "hyperhive", version: harnessVersion() });
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
    ({ to, body }) =>
      answer(
        call("send", { to, body }).then(
          (r) => `sent to ${to} (message ${r.id}${r.duplicate ? ", duplicate" : ""})`,
        ),
      ),
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
    ({ wait_seconds }) => {
      const wait =
        wait_seconds === undefined ? undefined : Math.min(wait_seconds, MAX_RECV_WAIT_SECONDS);
      return answer(
        call("recv", wait === undefined ? {} : { wait_seconds: wait }).then(formatRecv),
      );
    },
  );
  server.registerTool(
    "whoami",
    {
      description:
        "Who you are, from your harness (not from your prompt): name, role, the model your " +
        "next turn uses, the hyperhive version and source revision, when your harness started " +
        "(unix ms) and your state dir.",
      inputSchema: {},
    },
    () => answer(call("whoami", {}).then((me) => JSON.stringify(me, null, 2))),
  );
  if (role === "manager") registerManagerTools(server, call);
  return server;
}

/** `main.js mcp`: serves the tools of `role` on stdio, talking to the harness at `socketPath`. */
export async function runMcpStdio(socketPath: string, role: AgentRole): Promise<void> {
  const server = createMcpServer((cmd, params) => socketRequest(socketPath, cmd, params), role);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  // claude closing our stdin (or dying) ends us; an orphaned MCP child must not linger.
  await new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.close();
}
