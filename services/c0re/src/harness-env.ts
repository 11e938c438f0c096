import { hivePaths } from "@hyperhive/shared";
import type { AgentSpec } from "./driver.js";

/** What every agent's harness is told, the same for all of them. */
export interface HarnessSettings {
  /** The hive root. */
  root: string;
  /** NATS URL(s) the harness connects to. */
  natsUrl: string;
  /** The repo's `prompts/` dir (HIVE_PROMPTS_DIR). */
  promptsDir?: string;
  /** claude binary (HIVE_CLAUDE_BIN). */
  claudeBin?: string;
  /** Default model (HIVE_MODEL). */
  model?: string;
  /** An Anthropic Messages API URL the agents' claude should use instead of Anthropic's. */
  modelUrl?: string;
  /** API key for claude; a placeholder is used when a model URL is given without one. */
  apiKey?: string;
  /** c0re mints each agent's NATS credentials into its run dir: the harness connects with them. */
  agentCredentials?: boolean;
}

/**
 * Variables c0re itself reads; an agent gets none of them. The database path and the harness
 * binary are c0re's business; the model URL and agent NATS URL reach the agent under the names
 * the harness reads (ANTHROPIC_BASE_URL, NATS_URL).
 */
const PRIVATE_ENV = [
  "C0RE_DB",
  "HIVE_HARNESS_BIN",
  "HIVE_MODEL_URL",
  "HIVE_AGENT_NATS_URL",
  // c0re's own credentials and the hive's keys: an agent connects as itself or not at all.
  "NATS_CREDS",
  "HIVE_NATS_KEYS_DIR",
  "HIVE_DRIVER",
];

/** Placeholder key: claude refuses to start without some key, and a local model server ignores it. */
const LOCAL_API_KEY = "hyperhive-local";

/**
 * The environment of one agent's harness: `base` (PATH, HOME, ...) without c0re's private
 * variables, plus who the agent is, where its dirs are, and how its claude reaches a model.
 */
export function harnessEnv(
  spec: AgentSpec,
  s: HarnessSettings,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const paths = hivePaths(s.root);
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of PRIVATE_ENV) delete env[k];
  Object.assign(env, {
    HIVE_AGENT: spec.name,
    HIVE_ROLE: spec.role,
    NATS_URL: s.natsUrl,
    HIVE_ROOT: s.root,
    HIVE_STATE_DIR: paths.agentStateDir(spec.name),
    HIVE_SHARED_DIR: paths.sharedDir,
    HIVE_RUN_DIR: paths.agentRunDir(spec.name),
  });
  if (s.agentCredentials) env.NATS_CREDS = paths.agentCredsFile(spec.name);
  if (s.promptsDir) env.HIVE_PROMPTS_DIR = s.promptsDir;
  if (s.claudeBin) env.HIVE_CLAUDE_BIN = s.claudeBin;
  if (s.model) env.HIVE_MODEL = s.model;
  if (s.apiKey) env.ANTHROPIC_API_KEY = s.apiKey;
  if (s.modelUrl) {
    env.ANTHROPIC_BASE_URL = s.modelUrl;
    env.ANTHROPIC_API_KEY ||= LOCAL_API_KEY;
    env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1";
  }
  return env;
}
