import { AgentConfig, type AgentName, describeZodError } from "@hyperhive/shared";

/** The longest approval summary (the approval schema's limit). */
const MAX_SUMMARY_CHARS = 300;

/** A config file's text, parsed with the shared schema: the config, or why not. */
export function parseConfig(
  text: string,
): { ok: true; config: AgentConfig } | { ok: false; why: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, why: "not JSON" };
  }
  const r = AgentConfig.safeParse(raw);
  return r.success ? { ok: true, config: r.data } : { ok: false, why: describeZodError(r.error) };
}

/**
 * One line for the operator saying what a config change does, e.g. `config of alice (1a2b3c4):
 * model haiku -> sonnet, env changed`. `before` is null when the agent had no config file.
 */
export function summarizeChange(
  agent: AgentName,
  shortSha: string,
  before: AgentConfig | null,
  after: AgentConfig,
): string {
  const head = `config of ${agent} (${shortSha})`;
  if (!before) return `${head}: new file`;
  const parts: string[] = [];
  if (before.model !== after.model) parts.push(`model ${before.model} -> ${after.model}`);
  for (const key of ["allowed_tools", "extra_mcp_servers", "env"] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) parts.push(`${key} changed`);
  }
  const what = parts.length > 0 ? parts.join(", ") : "layout only";
  return `${head}: ${what}`.slice(0, MAX_SUMMARY_CHARS);
}
