import { z } from "zod";
import { AgentName } from "../names.js";
import { AgentState } from "./agent.js";

export const AgentRole = z.enum(["manager", "agent"]);
export type AgentRole = z.infer<typeof AgentRole>;

/** One agent as the registry knows it. */
export const AgentInfo = z.object({
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
export const AgentsListRequest = z.object({});
export const AgentsListResponse = z.object({ agents: z.array(AgentInfo) });
export type AgentsListResponse = z.infer<typeof AgentsListResponse>;

/** `hive.op.agent.start|stop|restart` request. */
export const AgentLifecycleRequest = z.object({ name: AgentName });
export type AgentLifecycleRequest = z.infer<typeof AgentLifecycleRequest>;
export const AgentLifecycleResponse = z.object({ agent: AgentInfo });
export type AgentLifecycleResponse = z.infer<typeof AgentLifecycleResponse>;

/** `hive.events.agent.<name>.lifecycle` event, published by c0re. */
export const AgentLifecycleEvent = z.object({
  agent: AgentName,
  event: z.enum(["started", "stopped", "exited", "restarting"]),
  at: z.number().int(),
  /** Exit code or signal for `exited`. */
  detail: z.string().optional(),
});
export type AgentLifecycleEvent = z.infer<typeof AgentLifecycleEvent>;
