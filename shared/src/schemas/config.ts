import * as z from "zod";

/**
 * One agent's configuration: the file `agents/<name>.json` of the meta repo c0re owns
 * (`<root>/meta`), changed only through an approved `request_apply_commit`. c0re hands the
 * current one to the agent's harness at each start; new sub-agents start from
 * `defaults/agent.json`.
 */

/** The built-ins every agent gets unless its config says otherwise. */
const DEFAULT_BUILTINS = ["Bash", "Edit", "Glob", "Grep", "Read", "TodoWrite", "Write"] as const;

/** claude's built-in tools an agent may be allowed: the defaults and a few more. */
export const ClaudeBuiltinTool = z.enum([
  ...DEFAULT_BUILTINS,
  "MultiEdit",
  "NotebookEdit",
  "WebFetch",
  "WebSearch",
  "Task",
]);
export type ClaudeBuiltinTool = z.infer<typeof ClaudeBuiltinTool>;

/** The built-ins every agent gets unless its config says otherwise. */
export const DEFAULT_ALLOWED_TOOLS: readonly ClaudeBuiltinTool[] = DEFAULT_BUILTINS;

/** `Bash(git *)`: a built-in, and in parentheses what of it runs (claude's permission rule). */
const TOOL_RULE = /^([A-Za-z]+)\((.+)\)$/s;

/**
 * An entry of `allowed_tools`: a built-in (`Bash`: all of it), or a built-in with a rule of what
 * of it may run (`Bash(git *)`, `Read(./notes/**)`; claude's permission-rule syntax). A tool
 * given only with rules is offered, and a use outside them refused.
 */
export const AllowedTool = z.union([
  ClaudeBuiltinTool,
  z
    .string()
    .max(200)
    .regex(TOOL_RULE, "a built-in, or a built-in with a rule: Bash(git *)")
    .refine((t) => !/[\n\r\0]/.test(t), "a rule is one line")
    .refine(
      (t) => ClaudeBuiltinTool.safeParse(TOOL_RULE.exec(t)?.[1]).success,
      "a rule's tool must be one of claude's built-ins an agent may have",
    ),
]);
export type AllowedTool = z.infer<typeof AllowedTool>;

/** The built-in an `allowed_tools` entry is about: `Bash` for `Bash(git *)`. */
export function toolOf(entry: AllowedTool): ClaudeBuiltinTool {
  return ClaudeBuiltinTool.parse(TOOL_RULE.exec(entry)?.[1] ?? entry);
}

/** The model a config names when it names none. */
export const DEFAULT_MODEL = "haiku";

/** A claude model name or alias (`haiku`, `sonnet`, `claude-sonnet-4-5`, ...). */
export const ModelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/, "a model name: letters, digits and . _ : @ / -");
export type ModelName = z.infer<typeof ModelName>;

/**
 * An environment variable an agent's config may set. Not the hive's own (`HIVE_*`, `NATS_*`) nor
 * what the harness sets for claude (`HOME`, `PATH`, `CLAUDE_CONFIG_DIR`).
 */
export const ConfigEnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,63}$/, "an environment variable name: A-Z, 0-9 and _")
  .refine(
    (n) => !/^(HIVE_|NATS_)/.test(n) && !["HOME", "PATH", "CLAUDE_CONFIG_DIR", "USER"].includes(n),
    "HIVE_*, NATS_*, HOME, PATH, USER and CLAUDE_CONFIG_DIR are the hive's own",
  );

/** The key of an extra MCP server: its tools show in claude as `mcp__<key>__<tool>`. */
export const McpServerKey = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, "an MCP server key: a-z first, then a-z, 0-9, _ or -")
  .refine((k) => k !== "hyperhive", "hyperhive is the hive's own MCP server");

/** One extra MCP server claude runs for this agent (stdio). */
export const ExtraMcpServer = z.strictObject({
  /** The program to run. */
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(ConfigEnvName, z.string()).default({}),
  /**
   * Which of its tools claude may use, as patterns after `mcp__<key>__` (`*` for all of them,
   * or tool names). None: its tools are listed but each use is refused.
   */
  allowed_tools: z.array(z.string().regex(/^[A-Za-z0-9_*-]{1,64}$/)).default([]),
});
export type ExtraMcpServer = z.infer<typeof ExtraMcpServer>;

/** `agents/<name>.json` and `defaults/agent.json` of the meta repo. */
export const AgentConfig = z.strictObject({
  /** The model the agent's turns use (the operator's `/model` overrides it until the next change). */
  model: ModelName.default(DEFAULT_MODEL),
  /** claude built-ins the agent may use, each whole or by rules (`Bash(git *)`). */
  allowed_tools: z.array(AllowedTool).default([...DEFAULT_ALLOWED_TOOLS]),
  /** Extra MCP servers merged into claude's --mcp-config and --allowedTools. */
  extra_mcp_servers: z.record(McpServerKey, ExtraMcpServer).default({}),
  /** Set in claude's environment (and so its tools'). */
  env: z.record(ConfigEnvName, z.string()).default({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** A git commit id, in full (40 hex digits). */
export const CommitSha = z.string().regex(/^[0-9a-f]{40}$/, "a full commit sha (40 hex digits)");
export type CommitSha = z.infer<typeof CommitSha>;

/**
 * What c0re hands an agent's harness at each start: `<run dir>/agent-config.json`. `rev` is the
 * meta commit the config comes from; the operator's `/model` override holds until it changes.
 */
export const AgentRunConfig = z.strictObject({
  config: AgentConfig,
  rev: CommitSha,
});
export type AgentRunConfig = z.infer<typeof AgentRunConfig>;
