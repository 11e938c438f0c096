import { join } from "node:path";
import {
  type AgentName,
  type AgentRunConfig,
  hivePaths,
  AgentRunConfig as RunConfigSchema,
  writeFileAtomic,
} from "@hyperhive/shared";
import type { MetaRepo } from "./meta-repo.js";

/** The file a harness reads its config from at boot, in its run dir. */
export const RUN_CONFIG_FILE = "agent-config.json";

/** `<run dir>/agent-config.json` of an agent. */
export function runConfigPath(root: string, name: AgentName): string {
  return join(hivePaths(root).agentRunDir(name), RUN_CONFIG_FILE);
}

/**
 * Hands an agent its config: writes `<run dir>/agent-config.json` = {config, rev} from meta's
 * `main`, atomically (a harness booting at that moment reads the old file or the new one). Done
 * before every start and on update.
 */
export async function writeRunConfig(
  meta: MetaRepo,
  root: string,
  name: AgentName,
): Promise<AgentRunConfig> {
  const rc = RunConfigSchema.parse(await meta.runConfig(name));
  writeFileAtomic(runConfigPath(root, name), `${JSON.stringify(rc, null, 2)}\n`);
  return rc;
}
