import * as z from "zod";
import { AgentName } from "../names.js";
import { AgentState } from "./agent.js";
import { ModelName } from "./config.js";

/** What an agent is to the hive: the one manager, or one of its sub-agents. */
export const AgentRole = z.enum(["manager", "agent"]);
export type AgentRole = z.infer<typeof AgentRole>;

/** One agent as the registry knows it. */
export const AgentInfo = z.strictObject({
  name: AgentName,
  role: AgentRole,
  /** Last state the agent reported (or offline when its process is down). */
  state: AgentState,
  /** Unix ms of the last state change. */
  state_since: z.number().int(),
  /** Whether the container driver reports it running. */
  running: z.boolean(),
  /** The agent's state dir, same path inside and outside its container. */
  state_dir: z.string(),
  /** Unix ms when c0re last (re)started it, or null if never. */
  started_at: z.number().int().nullable(),
  /** How many times c0re has started it. */
  starts: z.number().int().nonnegative(),
  /** The model its next turn uses, as its harness last said (null before it ever said). */
  model: ModelName.nullable(),
  /**
   * Unix ms when the operator destroyed it: a tombstone (stopped, off the roster, its state dir
   * kept; `purge` deletes it and frees the name). Null for an active agent.
   */
  tombstoned_at: z.number().int().nullable(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** `hive.op.agents` request: list the registry. */
export const AgentsListRequest = z.strictObject({
  /** Tombstones too (default: active agents only). */
  all: z.boolean().optional(),
});
export type AgentsListRequest = z.infer<typeof AgentsListRequest>;
export const AgentsListResponse = z.strictObject({ agents: z.array(AgentInfo) });
export type AgentsListResponse = z.infer<typeof AgentsListResponse>;

/**
 * `hive.op.agent.start|stop|restart|destroy` request, and the manager's
 * `hive.agent.manager.kill|start|restart|update`.
 */
export const AgentLifecycleRequest = z.strictObject({ name: AgentName });
export type AgentLifecycleRequest = z.infer<typeof AgentLifecycleRequest>;
export const AgentLifecycleResponse = z.strictObject({ agent: AgentInfo });
export type AgentLifecycleResponse = z.infer<typeof AgentLifecycleResponse>;

/**
 * `hive.events.agent.<name>.lifecycle` event, published by c0re: `created` (a spawn was
 * approved), `started`, `stopped`, `exited` (on its own), `restarting`, `updated` (its config
 * was re-applied), `destroyed` (now a tombstone), `purged` (its state dir deleted, the name free).
 */
export const AgentLifecycleEvent = z.strictObject({
  agent: AgentName,
  event: z.enum([
    "created",
    "started",
    "stopped",
    "exited",
    "restarting",
    "updated",
    "destroyed",
    "purged",
  ]),
  at: z.number().int(),
  /** Exit code or signal for `exited`; who asked, or the config rev, where it helps. */
  detail: z.string().optional(),
});
export type AgentLifecycleEvent = z.infer<typeof AgentLifecycleEvent>;

/**
 * `hive.events.roster` event (published by c0re on every registry change and when it starts) and
 * the `hive.c0re.roster` reply: who mail may be addressed to. The broker keeps the latest copy
 * and refuses mail to anyone else.
 */
export const Roster = z.strictObject({
  /** Every agent mail may be addressed to: the registered agents (and names being spawned). */
  agents: z.array(AgentName),
  /** Unix ms of the registry change it reflects: an older roster never replaces a newer one. */
  at: z.number().int(),
});
export type Roster = z.infer<typeof Roster>;

/** `hive.c0re.roster` request: the current roster. */
export const RosterRequest = z.strictObject({});

/** `hive.op.agent.purge` request: delete a tombstone's state dir and free its name. */
export const PurgeRequest = z.strictObject({
  name: AgentName,
  /** The name again: purging cannot be undone, so the operator confirms it by typing it. */
  confirm: z.string(),
});
export type PurgeRequest = z.infer<typeof PurgeRequest>;
export const PurgeResponse = z.strictObject({
  name: AgentName,
  /** The state dir that was deleted. */
  state_dir: z.string(),
});
export type PurgeResponse = z.infer<typeof PurgeResponse>;

/** `hive.op.restart_all` request: restart every active agent, the manager first. */
export const RestartAllRequest = z.strictObject({});
export const RestartAllResponse = z.strictObject({
  /** In the order they were restarted: the manager, then the others. */
  restarted: z.array(AgentName),
  /** Whether the manager was idle again before the others were restarted (else it timed out). */
  manager_idle: z.boolean(),
});
export type RestartAllResponse = z.infer<typeof RestartAllResponse>;

/** The manager's `hive.agent.manager.spawn` request (its `request_spawn` tool). */
export const SpawnRequest = z.strictObject({
  /** The new sub-agent's name (the agent-name rule; not in use, not a tombstone). */
  name: AgentName,
});
export type SpawnRequest = z.infer<typeof SpawnRequest>;

/**
 * A git ref in the manager's clone of meta: a full sha, a branch, `HEAD`, `HEAD~1`. Never starts
 * with `-` (git would read it as an option).
 */
export const CommitRef = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._/~^-]{0,199}$/, "a git ref such as a sha, a branch or HEAD");

/** The manager's `hive.agent.manager.apply_commit` request (its `request_apply_commit` tool). */
export const ApplyCommitRequest = z.strictObject({
  /** Whose config the commit changes: it may touch `agents/<agent>.json` and nothing else. */
  agent: AgentName,
  /** The commit, as a ref of the manager's clone (`<manager state dir>/meta`). */
  commit_ref: CommitRef,
});
export type ApplyCommitRequest = z.infer<typeof ApplyCommitRequest>;
