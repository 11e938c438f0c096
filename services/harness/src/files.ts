import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type AgentRole, type ExtraMcpServer, writeFileAtomic } from "@hyperhive/shared";
import { z } from "zod";

/** File names the harness writes into the run dir at boot. */
export const RunFiles = {
  mcpConfig: "claude-mcp-config.json",
  settings: "claude-settings.json",
  systemPrompt: "claude-system-prompt.md",
} as const;

/** File names the harness keeps in the state dir. */
export const StateFiles = {
  /** When present, the next turn starts a fresh session (no `--continue`) and removes it. */
  newSession: "hyperhive-new-session",
} as const;

export interface McpConfigOptions {
  /** Absolute path of the node binary (process.execPath). */
  nodeBin: string;
  /** Absolute path of the harness's built main.js. */
  harnessMain: string;
  socketPath: string;
  agent: string;
  /** Which tools the hyperhive server offers (the manager's verbs only to the manager). */
  role: AgentRole;
  /** The agent config's extra MCP servers, by key. */
  extraServers: Record<string, ExtraMcpServer>;
}

/**
 * The `--mcp-config` blob: claude re-runs this same binary as `mcp` (server `hyperhive`), beside
 * the extra servers of the agent's config (stdio; claude names their tools `mcp__<key>__<tool>`).
 * Every server is `alwaysLoad`: without it this claude starts the turn while its MCP servers are
 * still connecting, and a tool called early is "No such tool available". An extra server also
 * gets the agent's socket (`HIVE_SOCKET`) and name (`HIVE_AGENT`), so one that hears of events
 * (a chat, a webhook) can wake its agent: `wake` over the socket, or `<harness> wake`.
 */
export function mcpConfig(o: McpConfigOptions): unknown {
  const extra = Object.fromEntries(
    Object.entries(o.extraServers).map(([key, s]) => [
      key,
      {
        type: "stdio",
        command: s.command,
        args: s.args,
        // After the config's own: it may not name HIVE_* (the schema refuses them).
        env: { ...s.env, HIVE_SOCKET: o.socketPath, HIVE_AGENT: o.agent },
        alwaysLoad: true,
      },
    ]),
  );
  return {
    mcpServers: {
      ...extra,
      hyperhive: {
        type: "stdio",
        command: o.nodeBin,
        args: [o.harnessMain, "mcp"],
        alwaysLoad: true,
        env: {
          HIVE_SOCKET: o.socketPath,
          HIVE_AGENT: o.agent,
          HIVE_ROLE: o.role,
          HIVE_LOG_LEVEL: "warn",
        },
      },
    },
  };
}

/**
 * The `--settings` blob. Hyperhive owns compaction (`/compact` on "Prompt is too long") and
 * memory (the state dir), so claude's own auto-compact and auto-memory are off: both the settings
 * keys this CLI version knows and the env switches it honours.
 */
export function claudeSettings(): unknown {
  return {
    autoCompactEnabled: false,
    autoMemoryEnabled: false,
    effortLevel: "medium",
    env: { DISABLE_AUTO_COMPACT: "1", CLAUDE_CODE_DISABLE_AUTO_MEMORY: "1" },
  };
}

/** Substitutes `{label}` and `{operator_pronouns}` in a prompt template. */
export function renderPrompt(
  template: string,
  vars: { label: string; operatorPronouns: string },
): string {
  return template
    .replaceAll("{label}", vars.label)
    .replaceAll("{operator_pronouns}", vars.operatorPronouns);
}

export interface BootFilesOptions extends McpConfigOptions {
  runDir: string;
  promptsDir: string;
  operatorPronouns: string;
}

/** Paths of the three generated files. */
export interface BootFiles {
  mcpConfig: string;
  settings: string;
  systemPrompt: string;
}

/** Writes the three files claude is pointed at; run once at boot. Throws if the template is missing. */
export function writeBootFiles(o: BootFilesOptions): BootFiles {
  const paths: BootFiles = {
    mcpConfig: join(o.runDir, RunFiles.mcpConfig),
    settings: join(o.runDir, RunFiles.settings),
    systemPrompt: join(o.runDir, RunFiles.systemPrompt),
  };
  const template = readFileSync(join(o.promptsDir, `${o.role}.md`), "utf8");
  writeFileAtomic(paths.mcpConfig, `${JSON.stringify(mcpConfig(o), null, 2)}\n`);
  writeFileAtomic(paths.settings, `${JSON.stringify(claudeSettings(), null, 2)}\n`);
  writeFileAtomic(
    paths.systemPrompt,
    renderPrompt(template, { label: o.agent, operatorPronouns: o.operatorPronouns }),
  );
  return paths;
}

/**
 * Whether claude has a session to `--continue` for this agent: any transcript under
 * `<CLAUDE_CONFIG_DIR>/projects/`. The config dir is per agent and cwd is always the state dir,
 * so any transcript there is this agent's.
 */
export function hasSession(claudeConfigDir: string): boolean {
  const projects = join(claudeConfigDir, "projects");
  if (!existsSync(projects)) return false;
  for (const d of readdirSync(projects, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    if (readdirSync(join(projects, d.name)).some((f) => f.endsWith(".jsonl"))) return true;
  }
  return false;
}

/** Consumes the one-shot "new session" marker: true if it was there (and is now gone). */
export function takeNewSession(stateDir: string): boolean {
  const p = join(stateDir, StateFiles.newSession);
  if (!existsSync(p)) return false;
  rmSync(p, { force: true });
  return true;
}

/** Sets the one-shot "new session" marker: the next turn drops `--continue`, once. */
export function markNewSession(stateDir: string): void {
  writeFileAtomic(join(stateDir, StateFiles.newSession), "");
}

/** `<state>/hyperhive-session-cost.json`: the last cost total claude reported, per session. */
const SessionCost = z.strictObject({
  session_id: z.string(),
  /** claude's session-cumulative `total_cost_usd` at the end of the last turn. */
  total_cost_usd: z.number().nonnegative(),
});
type SessionCost = z.infer<typeof SessionCost>;

/**
 * claude's `total_cost_usd` is cumulative over a `--continue`d session, so a turn's own cost is
 * the difference from the total the previous turn saw in the same session. The last total is
 * kept in `<state>/hyperhive-session-cost.json` so a restart does not count a session twice.
 */
export class CostLedger {
  private readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, "hyperhive-session-cost.json");
  }

  /** Records the session's new total and returns what this run added. */
  turnCost(sessionId: string | null, total: number): number {
    const prev = this.read();
    const delta = prev && prev.session_id === sessionId ? total - prev.total_cost_usd : total;
    if (sessionId !== null) {
      const next: SessionCost = { session_id: sessionId, total_cost_usd: total };
      writeFileAtomic(this.path, `${JSON.stringify(next)}\n`);
    }
    return Math.max(0, delta);
  }

  /** The last total, or null when there is none (or it is unreadable: counted afresh). */
  private read(): SessionCost | null {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return null;
    }
    try {
      const v = SessionCost.safeParse(JSON.parse(text));
      return v.success ? v.data : null;
    } catch {
      return null;
    }
  }
}
