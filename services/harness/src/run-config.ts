import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentConfig,
  AgentRunConfig,
  ConfigError,
  describeZodError,
  isErrno,
  type ModelName,
} from "@hyperhive/shared";

/** The file c0re writes into the run dir before every start: the agent's config and its rev. */
export const RUN_CONFIG_FILE = "agent-config.json";

/** The config this harness runs with, for its whole life (an update restarts it). */
export interface RunConfig {
  config: AgentConfig;
  /** The meta commit it comes from; null when there is no file (a harness run alone). */
  rev: string | null;
}

/**
 * Reads `<run dir>/agent-config.json` (shared's `AgentRunConfig`, written by c0re). Without the
 * file the harness runs on `AgentConfig`'s defaults with `defaultModel` (HIVE_MODEL) and no rev.
 * A file that is there but malformed stops the harness at boot: running on defaults instead would
 * quietly hand the agent tools or a model the operator never approved.
 */
export function readRunConfig(runDir: string, defaultModel: ModelName): RunConfig {
  const path = join(runDir, RUN_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT"))
      return { config: AgentConfig.parse({ model: defaultModel }), rev: null };
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(`${path} is not valid JSON`);
  }
  const parsed = AgentRunConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${path}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
