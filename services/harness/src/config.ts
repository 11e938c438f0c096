import { join } from "node:path";
import {
  AgentName,
  AgentRole,
  BaseEnv,
  DEFAULT_LEASE_SECONDS,
  loadConfig,
  ModelName,
  type RetryPolicy,
  retryPolicy,
} from "@hyperhive/shared";
import { z } from "zod";
import type { TurnLoopRetry } from "./turn-loop.js";

/** Environment of `serve` (the turn loop). Keys are the variable names. */
export const HarnessEnv = BaseEnv.extend({
  /** This agent's name; also the second token of every subject it requests on. */
  HIVE_AGENT: AgentName,
  /** Which system prompt template and which hyperhive tools the agent gets. */
  HIVE_ROLE: AgentRole.default("agent"),
  /** The agent's durable state dir: claude's cwd, its config dir and the model file live here. */
  HIVE_STATE_DIR: z.string().min(1),
  /** `<root>/shared`, where agents leave files for each other (set by c0re), for `whoami`. */
  HIVE_SHARED_DIR: z.string().min(1).optional(),
  /** Holds the socket `hive.sock` and the generated claude files. */
  HIVE_RUN_DIR: z.string().min(1),
  HIVE_CLAUDE_BIN: z.string().min(1).default("claude"),
  /** Directory with `agent.md` and `manager.md`. */
  HIVE_PROMPTS_DIR: z.string().min(1),
  /** The model when there is no `<run>/agent-config.json` (a harness run alone). */
  HIVE_MODEL: ModelName.default("haiku"),
  /** The hyperhive source revision (set by `hive up`, passed on by c0re), for `whoami`. */
  HYPERHIVE_REV: z.string().min(1).optional(),
  HIVE_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(DEFAULT_LEASE_SECONDS),
  HIVE_OPERATOR_PRONOUNS: z.string().min(1).default("she/her"),
  /** First wait (seconds) before retrying a turn that failed with "Not logged in"; doubles up to 300. */
  HIVE_LOGIN_RETRY_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  /** Turns tried on one message that keeps failing before it is acked and the operator told. */
  HIVE_TURN_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** First pause (seconds) before retrying a failed turn; doubles each time, up to 300 (or this). */
  HIVE_TURN_RETRY_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  /**
   * HOME for claude. Unset means the state dir, so claude never reads the operator's real
   * `~/.claude` or `~/.claude.json`; set it only to point somewhere deliberately.
   */
  HIVE_CLAUDE_HOME: z.string().min(1).optional(),
});
export type HarnessEnv = z.infer<typeof HarnessEnv>;

/** Resolved settings of one harness. */
export interface HarnessConfig {
  agent: AgentName;
  role: AgentRole;
  natsUrl: string;
  /** Its own NATS credentials (c0re writes them into its run dir); none on a hive without auth. */
  natsCreds: string | undefined;
  stateDir: string;
  runDir: string;
  socketPath: string;
  claudeBin: string;
  promptsDir: string;
  /** The model when c0re wrote no config file. */
  defaultModel: ModelName;
  hyperhiveRev: string | null;
  sharedDir: string | null;
  leaseSeconds: number;
  operatorPronouns: string;
  /** The turn loop's back-offs, from `HIVE_LOGIN_RETRY_SECONDS`, `HIVE_TURN_*`. */
  retry: TurnLoopRetry;
  claudeHome: string;
  logLevel: string;
}

/** Reads and validates the environment of `serve`; throws ConfigError naming what is wrong. */
export function loadHarnessConfig(env: NodeJS.ProcessEnv = process.env): HarnessConfig {
  const e = loadConfig(HarnessEnv, env);
  return {
    agent: e.HIVE_AGENT,
    role: e.HIVE_ROLE,
    natsUrl: e.NATS_URL,
    natsCreds: e.NATS_CREDS,
    stateDir: e.HIVE_STATE_DIR,
    runDir: e.HIVE_RUN_DIR,
    socketPath: socketPathFor(e.HIVE_RUN_DIR),
    claudeBin: e.HIVE_CLAUDE_BIN,
    promptsDir: e.HIVE_PROMPTS_DIR,
    defaultModel: e.HIVE_MODEL,
    hyperhiveRev: e.HYPERHIVE_REV ?? null,
    sharedDir: e.HIVE_SHARED_DIR ?? null,
    leaseSeconds: e.HIVE_LEASE_SECONDS,
    operatorPronouns: e.HIVE_OPERATOR_PRONOUNS,
    retry: turnLoopRetry(e),
    claudeHome: e.HIVE_CLAUDE_HOME ?? e.HIVE_STATE_DIR,
    logLevel: e.HIVE_LOG_LEVEL,
  };
}

/** Longest pause before another try on a held message (login or failed turn). */
const MAX_HELD_RETRY_MS = 300_000;

/**
 * The idle recv failed (broker or NATS away): 0.5 s, doubling up to 10 s, for as long as it takes.
 * Not configurable: it only decides how soon the harness notices the broker is back.
 */
export const RECV_RETRY: RetryPolicy = retryPolicy({ initialMs: 500, factor: 2, maxMs: 10_000 });

/** The turn loop's three back-offs as retry policies, from the environment. */
export function turnLoopRetry(
  e: Pick<
    HarnessEnv,
    "HIVE_LOGIN_RETRY_SECONDS" | "HIVE_TURN_RETRY_SECONDS" | "HIVE_TURN_ATTEMPTS"
  >,
): TurnLoopRetry {
  const turnMs = e.HIVE_TURN_RETRY_SECONDS * 1000;
  return {
    // Waiting for a login has no end: the message stays leased until claude can run again.
    login: retryPolicy({
      initialMs: e.HIVE_LOGIN_RETRY_SECONDS * 1000,
      factor: 2,
      maxMs: MAX_HELD_RETRY_MS,
    }),
    turn: retryPolicy({
      initialMs: turnMs,
      factor: 2,
      maxMs: Math.max(turnMs, MAX_HELD_RETRY_MS),
      maxAttempts: e.HIVE_TURN_ATTEMPTS,
    }),
    recv: RECV_RETRY,
  };
}

/** The per-agent socket inside a run dir. */
export function socketPathFor(runDir: string): string {
  return join(runDir, "hive.sock");
}
