import { type AgentConfig, type AgentRole, ClaudeBuiltinTool, toolOf } from "@hyperhive/shared";

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
 * Built-ins not listed are not even offered; an extra server's tools not allowed are refused. A
 * built-in given only by rules (`Bash(git *)`) is offered, and only what they match runs: in
 * `--print` nobody is there to approve the rest, so it is refused.
 */
export function claudeTools(config: AgentConfig, role: AgentRole): ClaudeTools {
  const entries = config.allowed_tools;
  const builtins = [...new Set(entries.map(toolOf))];
  // A built-in given whole runs whole: its rules, if any, would only narrow nothing.
  const whole = new Set(entries.filter((e) => ClaudeBuiltinTool.safeParse(e).success));
  const allowedBuiltins = [
    ...new Set(entries.filter((e) => whole.has(e) || !whole.has(toolOf(e)))),
  ];
  const extra = Object.entries(config.extra_mcp_servers).flatMap(([key, server]) =>
    server.allowed_tools.map((pattern) => `mcp__${key}__${pattern}`),
  );
  return {
    builtins,
    allowed: [
      ...allowedBuiltins,
      ...hyperhiveTools(role).map((t) => `mcp__hyperhive__${t}`),
      ...new Set(extra),
    ],
  };
}
