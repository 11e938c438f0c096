import {
  type AgentRole,
  type Clock,
  MAX_RECV_WAIT_SECONDS,
  SocketRecvBatchParams,
  SocketRecvParams,
  SocketSendParams,
  systemClock,
} from "@hyperhive/shared";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { registerManagerTools } from "./mcp-manager.js";
import { registerQuestionTools } from "./mcp-questions.js";
import { registerReminderTools } from "./mcp-reminders.js";
import { answer } from "./mcp-text.js";
import { batchText, recvText } from "./message-text.js";
import { type SocketCaller, socketRequest } from "./socket-client.js";
import { harnessVersion } from "./version.js";

/** A wait as the broker takes it: at most {@link MAX_RECV_WAIT_SECONDS}; none means the default. */
function waitParam(wait_seconds: number | undefined): { wait_seconds?: number } {
  return wait_seconds === undefined
    ? {}
    : { wait_seconds: Math.min(wait_seconds, MAX_RECV_WAIT_SECONDS) };
}

/**
 * The hyperhive MCP server claude talks to, every tool bridged to the harness socket: mail
 * (`send`, `recv`, `recv_batch`), `whoami`, the questions and open threads and the reminders for
 * every agent, and the manager's verbs only when `role` is manager. `clock` dates what the tools read back.
 */
export function createMcpServer(
  call: SocketCaller,
  role: AgentRole,
  clock: Clock = systemClock,
): McpServer {
  const server = new McpServer({ name: "hyperhive", version: harnessVersion() });
  server.registerTool(
    "send",
    {
      description:
        "Message a peer (logical agent name), another agent, the operator (recipient " +
        "`operator`, surfaces in the dashboard inbox), or every other agent at once (`*`, a " +
        "broadcast). Pass `in_reply_to` with the id of the message you answer (shown as " +
        "`(message #N)` with every message) so the recipient sees what it replies to. Bodies " +
        "over 4 KiB are refused: split the content over several messages, or write it to a file " +
        "in the hive's shared dir (every agent and the operator read it; `whoami` says where) " +
        "and send its path.",
      // The socket's own param schemas: claude sees their constraints, and a bad argument comes
      // back as a tool error before anything is sent.
      inputSchema: {
        to: SocketSendParams.shape.to.describe(
          "Recipient: an agent name, `operator`, or `*` for every other agent.",
        ),
        body: SocketSendParams.shape.body.describe("The message text (at most 4096 bytes)."),
        in_reply_to: SocketSendParams.shape.in_reply_to.describe(
          "Optional: the id of the message this answers (ignored if you never saw that message).",
        ),
      },
    },
    ({ to, body, in_reply_to }) =>
      answer(
        call("send", { to, body, ...(in_reply_to === undefined ? {} : { in_reply_to }) }).then(
          (r) =>
            `${to === "*" ? "broadcast to every other agent" : `sent to ${to}`} ` +
            `(message ${r.id}${r.duplicate ? ", duplicate" : ""})`,
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
    ({ wait_seconds }) => answer(call("recv", waitParam(wait_seconds)).then(recvText)),
  );
  server.registerTool(
    "recv_batch",
    {
      description:
        "Drain up to `max` inbox messages (1-50) in one call, oldest first; cheaper than one " +
        "recv per message when several are queued. Waits like recv (default 30 s, at most 180) " +
        "only when the inbox is empty.",
      inputSchema: {
        max: SocketRecvBatchParams.shape.max.describe("At most this many messages (1-50)."),
        wait_seconds: SocketRecvBatchParams.shape.wait_seconds.describe(
          "Seconds to wait when the inbox is empty (0-180, default 30).",
        ),
      },
    },
    ({ max, wait_seconds }) =>
      answer(call("recv_batch", { max, ...waitParam(wait_seconds) }).then(batchText)),
  );
  server.registerTool(
    "whoami",
    {
      description:
        "Who you are, from your harness (not from your prompt): name, role, the model your " +
        "next turn uses, the hyperhive version and source revision, when your harness started " +
        "(unix ms), your state dir, and the hive's shared dir (every agent reads it and writes " +
        "its own files there; the operator reads it too).",
      inputSchema: {},
    },
    () => answer(call("whoami", {}).then((me) => JSON.stringify(me, null, 2))),
  );
  registerQuestionTools(server, call, clock);
  registerReminderTools(server, call, clock);
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
