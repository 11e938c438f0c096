import type { AgentName, Recipient } from "./names.js";
import type { ServiceName } from "./schemas/hive.js";

/**
 * Every NATS subject Hyperhive uses. Identity is the subject: an agent's requests carry its name
 * as a token and services read the caller from there, never from the payload.
 */
export const subjects = {
  /** Fixed: the broker announces new mail for one recipient here. */
  inbox: (to: Recipient) => `hive.inbox.${to}`,
  /** Fixed: one record per finished turn, published by the harness. */
  turnStats: "hive.turn.stats",
  /** The live turn stream of one agent, published by its harness. */
  live: (agent: AgentName) => `hive.live.${agent}`,
  liveAll: "hive.live.*",

  /** Requests an agent makes as itself; answered by the broker. */
  agent: {
    send: (agent: AgentName) => `hive.agent.${agent}.send`,
    recv: (agent: AgentName) => `hive.agent.${agent}.recv`,
    ack: (agent: AgentName) => `hive.agent.${agent}.ack`,
    extend: (agent: AgentName) => `hive.agent.${agent}.extend`,
    release: (agent: AgentName) => `hive.agent.${agent}.release`,
  },
  /** Wildcards the broker subscribes to; the second token is the caller. */
  agentWildcard: {
    send: "hive.agent.*.send",
    recv: "hive.agent.*.recv",
    ack: "hive.agent.*.ack",
    extend: "hive.agent.*.extend",
    release: "hive.agent.*.release",
  },

  /** Operator actions: only the web and CLI users may publish here. */
  op: {
    /** Send as the operator (broker). */
    send: "hive.op.send",
    /** The operator's inbox, newest first (broker). */
    inbox: "hive.op.inbox",
    /** The agent registry with states (c0re). */
    agents: "hive.op.agents",
    agentStart: "hive.op.agent.start",
    agentStop: "hive.op.agent.stop",
    agentRestart: "hive.op.agent.restart",
  },

  /** Questions c0re answers for other services. */
  c0re: {
    /** The current roster (who may be mailed); the broker asks at start. */
    roster: "hive.c0re.roster",
  },

  /** System messages, sent by c0re as `system` (broker). */
  sys: {
    send: "hive.sys.send",
  },

  /** Facts: state changes published for whoever listens. */
  events: {
    agentState: (agent: AgentName) => `hive.events.agent.${agent}.state`,
    agentStateAll: "hive.events.agent.*.state",
    agentLifecycle: (agent: AgentName) => `hive.events.agent.${agent}.lifecycle`,
    agentLifecycleAll: "hive.events.agent.*.lifecycle",
    /** The roster changed (c0re). */
    roster: "hive.events.roster",
    /** A service of the hive started, exited, is restarting or was given up on (`hive up`). */
    service: (name: ServiceName) => `hive.events.service.${name}`,
    serviceAll: "hive.events.service.*",
  },
} as const;

/** Returns token `index` (0-based) of a subject, e.g. the agent name of `hive.agent.<name>.send`. */
export function subjectToken(subject: string, index: number): string | undefined {
  return subject.split(".")[index];
}
