import type { AgentConfig, AgentRole } from "@hyperhive/shared";

/** The hyperhive MCP tools every agent has. */
export const AGENT_TOOLS = [
  "send",
  "recv",
  "recv_batch",
  "whoami",
  "ask_operator",
  "ask",
  "answer",
  "list_my_asks",
  "cancel_ask",
  "get_open_threads",
  "remind",
  "list_my_reminders",
  "cancel_reminder",
] as const;
/** The manager's tools on top of those: its verbs, bridged to c0re. */
export const MANAGER_TOOLS = [
  "request_spawn",
  "kill",
  "start",
  "restart",
  "update",
  "request_apply_commit",
] as const;
export type ManagerTool = (typeof MANAGER_TOOLS)[number];

/** The hyperhive MCP tools of an agent's flavour, as the MCP server registers them. */
export function hyperhiveTools(role: AgentRole): readonly string[] {
  return role === "manager" ? [...AGENT_TOOLS, ...MANAGER_TOOLS] : AGENT_TOOLS;
}

/** What claude is allowed: `--tools` (built-ins it has) and `--allowedTools` (what runs unasked). */
export interface ClaudeTools {
  builtins: readonly string[];
  allowed: readonly string[];
}

/**
 * claude's tool flags from the agent's config: its built-ins, the hyperhive tools of its flavour
 * (`mcp__hyperhive__<tool>`) and each extra MCP server's allowed patterns (`mcp__<key>__<pattern>`).
 * Built-ins not listed are not even offered; an extra server's tools not allowed are refused.
 */
export function claudeTools(config: AgentConfig, role: AgentRole): ClaudeTools {
  const builtins = [...new Set(config.allowed_tools)];
  const extra = Object.entries(config.extra_mcp_servers).flatMap(([key, server]) =>
    server.allowed_tools.map((pattern) => `mcp__${key}__${pattern}`),
  );
  return {
    builtins,
    allowed: [
      ...builtins,
      ...hyperhiveTools(role).map((t) => `mcp__hyperhive__${t}`),
      ...new Set(extra),
    ],
  };
}
