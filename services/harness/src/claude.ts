import { join } from "node:path";
import { RunFiles } from "./files.js";
import type { ClaudeTools } from "./tools.js";

export interface ClaudeArgsOptions {
  model: string;
  /** Resume the agent's session (`--continue`). */
  continueSession: boolean;
  runDir: string;
  /** From the agent's config and flavour (`claudeTools`). */
  tools: ClaudeTools;
}

/** The argv (after the binary) of one claude turn; the prompt goes on stdin. */
export function buildClaudeArgs(o: ClaudeArgsOptions): string[] {
  return [
    "--print",
    "--verbose",
    "--output-format",
    "stream-json",
    "--model",
    o.model,
    ...(o.continueSession ? ["--continue"] : []),
    "--settings",
    join(o.runDir, RunFiles.settings),
    "--system-prompt-file",
    join(o.runDir, RunFiles.systemPrompt),
    "--mcp-config",
    join(o.runDir, RunFiles.mcpConfig),
    "--strict-mcp-config",
    // An empty --tools ("") is claude's way of saying: no built-ins at all.
    "--tools",
    o.tools.builtins.join(","),
    "--allowedTools",
    o.tools.allowed.join(","),
  ];
}

/** Variables passed from the harness's environment to claude unchanged. */
const PASS_EXACT = new Set([
  "PATH",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "DISABLE_AUTOUPDATER",
  "DISABLE_TELEMETRY",
]);
const PASS_PREFIX = ["ANTHROPIC_", "CLAUDE_CODE_", "LC_"];

/** How long claude waits for its MCP servers to connect before a turn's first request. */
export const MCP_CONNECT_WAIT_MS = 30_000;

export interface ClaudeEnvOptions {
  stateDir: string;
  /** HOME for claude (the state dir unless deliberately configured). */
  home: string;
  /** The agent config's `env` (already checked: never HIVE_*, NATS_*, HOME, PATH, ...). */
  configEnv?: Record<string, string>;
}

/**
 * claude's environment: a clean one, not the harness's. Only locale/path basics and the
 * `ANTHROPIC_*` / `CLAUDE_CODE_*` variables pass, then the agent config's `env`; HOME and
 * CLAUDE_CONFIG_DIR point into the state dir so `--continue` finds this agent's sessions and never
 * the operator's `~/.claude`, and the harness's own compaction switches always win.
 */
export function buildClaudeEnv(
  parent: NodeJS.ProcessEnv,
  o: ClaudeEnvOptions,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (PASS_EXACT.has(k) || PASS_PREFIX.some((p) => k.startsWith(p))) env[k] = v;
  }
  // claude -p waits only 5 s for its MCP servers before the first request, then goes on without
  // the slow ones: on a loaded machine the turn's hyperhive tools were "No such tool available".
  // It waits as long as a server's connection may take (MCP_TIMEOUT, 30 s), and no longer than
  // they take; the agent config's env may say otherwise.
  env.MCP_CONNECT_TIMEOUT_MS = String(MCP_CONNECT_WAIT_MS);
  Object.assign(env, o.configEnv);
  env.HOME = o.home;
  env.CLAUDE_CONFIG_DIR = join(o.stateDir, ".claude");
  env.DISABLE_AUTO_COMPACT = "1";
  env.CLAUDE_CODE_DISABLE_AUTO_MEMORY = "1";
  return env;
}

/** Prefix the harness puts on a wake's body, since the broker records the sender as the agent. */
const WAKE_RE = /^\[wake from ([^\]\n]{1,64})\] ([\s\S]*)$/;

/** Body of the self-addressed message a `wake` becomes. */
export function wakeBody(label: string, body: string): string {
  return `[wake from ${label}] ${body}`;
}

/** Who a message is shown as coming from: a self-sent wake shows its label. */
export function displaySender(
  agent: string,
  msg: { from: string; body: string },
): { from: string; body: string } {
  if (msg.from === agent) {
    const m = WAKE_RE.exec(msg.body);
    if (m) return { from: m[1]!, body: m[2]! };
  }
  return { from: msg.from, body: msg.body };
}
