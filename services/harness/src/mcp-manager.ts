import {
  type AgentInfo,
  AgentLifecycleRequest,
  ApplyCommitRequest,
  type Approval,
  SpawnRequest,
} from "@hyperhive/shared";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { LifecycleVerb } from "./bridge.js";
import { answer } from "./mcp-text.js";
import type { SocketCaller } from "./socket-client.js";

/** How an approval reads to the manager: what it is, and where it stands. */
export function formatApproval(a: Approval): string {
  const what =
    a.kind === "spawn"
      ? `spawn ${a.details.name}`
      : `config of ${a.details.agent} (commit ${a.details.commit.slice(0, 7)}): ${a.summary}`;
  if (a.state === "pending") {
    return (
      `approval #${a.id} queued: ${what} (pending the operator's decision; ` +
      "the outcome will arrive in your inbox)"
    );
  }
  return `approval #${a.id} ${what}: ${a.state}${a.note ? `: ${a.note}` : ""}`;
}

const DONE: Record<LifecycleVerb, string> = {
  kill: "stopped",
  start: "started",
  restart: "restarted",
  update: "updated with its current config and restarted",
};

/** How a lifecycle answer reads: what was done, and the agent as c0re now sees it. */
export function formatLifecycle(verb: LifecycleVerb, a: AgentInfo): string {
  const model = a.model === null ? "" : `, model ${a.model}`;
  return `${a.name} ${DONE[verb]}: ${a.running ? "running" : "not running"}, state ${a.state}${model}`;
}

const LIFECYCLE_HELP: Record<LifecycleVerb, string> = {
  kill: "Stop a sub-agent (graceful; its state dir and inbox stay). No approval needed.",
  start: "Start a stopped sub-agent. No approval needed.",
  restart: "Stop and start a sub-agent. No approval needed.",
  update:
    "Re-apply a sub-agent's current config (from the meta repo) and restart it. Idempotent; " +
    "no approval needed.",
};

/**
 * The manager's tools, each one socket command bridged by the harness to c0re
 * (`hive.agent.<me>.<verb>`). Registered only on the manager's MCP server.
 */
export function registerManagerTools(server: McpServer, call: SocketCaller): void {
  server.registerTool(
    "request_spawn",
    {
      description:
        "Ask the operator to create a new sub-agent. Queues a spawn approval and returns its id " +
        "at once; the operator's decision arrives later in your inbox as a system message. A " +
        "name in use (or left by a destroyed agent the operator has not purged) is refused.",
      inputSchema: {
        name: SpawnRequest.shape.name.describe(
          "The new agent's name: 1-9 chars, a-z first, then a-z, 0-9 or -.",
        ),
      },
    },
    (params) => answer(call("request_spawn", params).then((r) => formatApproval(r.approval))),
  );
  for (const verb of ["kill", "start", "restart", "update"] as const) {
    server.registerTool(
      verb,
      {
        description: `${LIFECYCLE_HELP[verb]} Sub-agents only: your own lifecycle is the operator's.`,
        inputSchema: {
          name: AgentLifecycleRequest.shape.name.describe("The sub-agent's name."),
        },
      },
      (params) => answer(call(verb, params).then((r) => formatLifecycle(verb, r.agent))),
    );
  }
  server.registerTool(
    "request_apply_commit",
    {
      description:
        "Ask the operator to apply a config change. Commit an edit of `agents/<agent>.json` " +
        "(and nothing else) in your clone of the meta repo (`meta/` in your state dir), then " +
        "call this with the agent and the commit. It is checked at once (one file, a valid " +
        "config) and queued for approval with its diff; once approved the agent restarts with " +
        "it, and you are told in your inbox.",
      inputSchema: {
        agent: ApplyCommitRequest.shape.agent.describe("Whose config the commit changes."),
        commit_ref: ApplyCommitRequest.shape.commit_ref.describe(
          "The commit in your clone: a full sha, a branch, HEAD.",
        ),
      },
    },
    (params) =>
      answer(call("request_apply_commit", params).then((r) => formatApproval(r.approval))),
  );
}
