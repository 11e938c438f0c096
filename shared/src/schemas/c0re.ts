import * as z from "zod";
import { AgentName } from "../names.js";
import { AgentState } from "./agent.js";

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
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** `hive.op.agents` request: list the registry. */
export const AgentsListRequest = z.strictObject({});
export const AgentsListResponse = z.strictObject({ agents: z.array(AgentInfo) });
export type AgentsListResponse = z.infer<typeof AgentsListResponse>;

/** `hive.op.agent.start|stop|restart` request. */
export const AgentLifecycleRequest = z.strictObject({ name: AgentName });
export type AgentLifecycleRequest = z.infer<typeof AgentLifecycleRequest>;
export const AgentLifecycleResponse = z.strictObject({ agent: AgentInfo });
export type AgentLifecycleResponse = z.infer<typeof AgentLifecycleResponse>;

/** `hive.events.agent.<name>.lifecycle` event, published by c0re. */
export const AgentLifecycleEvent = z.strictObject({
  agent: AgentName,
  event: z.enum(["started", "stopped", "exited", "restarting"]),
  at: z.number().int(),
  /** Exit code or signal for `exited`. */
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
