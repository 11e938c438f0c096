import type { AgentName, Recipient } from "./names.js";
import type { ServiceName } from "./schemas/hive.js";

/**
 * Every NATS subject Hyperhive uses. Identity is the subject: an agent's requests carry its name
 * as a token and services read the caller from there, never from the payload.
 */
export const subjects = {
  /** Fixed: the broker announces new mail for one recipient here. */
  inbox: (to: Recipient) => `hive.inbox.${to}`,
  /** Fixed: a broadcast (`to: "*"`) is announced once here (broker). */
  broadcast: "hive.broadcast",
  /** Fixed: one record per finished turn, published by the harness. */
  turnStats: (agent: AgentName) => `hive.turn.stats.${agent}`,
  turnStatsAll: "hive.turn.stats.*",
  /** The live turn stream of one agent, published by its harness. */
  live: (agent: AgentName) => `hive.live.${agent}`,
  liveAll: "hive.live.*",

  /**
   * Requests an agent makes as itself: the mail verbs (broker), and the manager's verbs (c0re,
   * which refuses them from any other agent).
   */
  agent: {
    send: (agent: AgentName) => `hive.agent.${agent}.send`,
    recv: (agent: AgentName) => `hive.agent.${agent}.recv`,
    ack: (agent: AgentName) => `hive.agent.${agent}.ack`,
    extend: (agent: AgentName) => `hive.agent.${agent}.extend`,
    release: (agent: AgentName) => `hive.agent.${agent}.release`,
    spawn: (agent: AgentName) => `hive.agent.${agent}.spawn`,
    kill: (agent: AgentName) => `hive.agent.${agent}.kill`,
    start: (agent: AgentName) => `hive.agent.${agent}.start`,
    restart: (agent: AgentName) => `hive.agent.${agent}.restart`,
    update: (agent: AgentName) => `hive.agent.${agent}.update`,
    applyCommit: (agent: AgentName) => `hive.agent.${agent}.apply_commit`,
    /** Lease several pending messages at once (broker). */
    recvBatch: (agent: AgentName) => `hive.agent.${agent}.recv_batch`,
    /** Questions (c0re): ask the operator or an agent, answer one, list and cancel one's own. */
    ask: (agent: AgentName) => `hive.agent.${agent}.ask`,
    answer: (agent: AgentName) => `hive.agent.${agent}.answer`,
    asks: (agent: AgentName) => `hive.agent.${agent}.asks`,
    cancelAsk: (agent: AgentName) => `hive.agent.${agent}.cancel_ask`,
    /** What is still pending against the caller (c0re; hive-wide for the manager). */
    threads: (agent: AgentName) => `hive.agent.${agent}.threads`,
    /** Reminders (scheduler): set one for oneself, list and cancel one's own. */
    remind: (agent: AgentName) => `hive.agent.${agent}.remind`,
    reminders: (agent: AgentName) => `hive.agent.${agent}.reminders`,
    cancelReminder: (agent: AgentName) => `hive.agent.${agent}.cancel_reminder`,
  },
  /** Wildcards the broker and c0re subscribe to; the second token is the caller. */
  agentWildcard: {
    send: "hive.agent.*.send",
    recv: "hive.agent.*.recv",
    ack: "hive.agent.*.ack",
    extend: "hive.agent.*.extend",
    release: "hive.agent.*.release",
    spawn: "hive.agent.*.spawn",
    kill: "hive.agent.*.kill",
    start: "hive.agent.*.start",
    restart: "hive.agent.*.restart",
    update: "hive.agent.*.update",
    applyCommit: "hive.agent.*.apply_commit",
    recvBatch: "hive.agent.*.recv_batch",
    ask: "hive.agent.*.ask",
    answer: "hive.agent.*.answer",
    asks: "hive.agent.*.asks",
    cancelAsk: "hive.agent.*.cancel_ask",
    threads: "hive.agent.*.threads",
    remind: "hive.agent.*.remind",
    reminders: "hive.agent.*.reminders",
    cancelReminder: "hive.agent.*.cancel_reminder",
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
    /** Stop an agent for good, leaving a tombstone (c0re). */
    agentDestroy: "hive.op.agent.destroy",
    /** Delete a tombstone's state dir and free the name (c0re). */
    agentPurge: "hive.op.agent.purge",
    /** Restart every agent, the manager first (c0re). */
    restartAll: "hive.op.restart_all",
    /** Stored messages by agent, thread or time, with their receipts (broker). */
    history: "hive.op.history",
    /** Questions put to the operator; answering and cancelling them (c0re). */
    questions: "hive.op.questions",
    answer: "hive.op.answer",
    cancelQuestion: "hive.op.cancel_question",
    /** Open threads of one agent or of the hive (c0re). */
    threads: "hive.op.threads",
    /** Reminders of any agent: list, set, cancel, retry a failing one, counts (scheduler). */
    reminders: "hive.op.reminders",
    remind: "hive.op.remind",
    cancelReminder: "hive.op.cancel_reminder",
    retryReminder: "hive.op.retry_reminder",
    reminderCounts: "hive.op.reminder_counts",
    /** The approvals queue (c0re). */
    approvals: "hive.op.approvals",
    approve: "hive.op.approve",
    deny: "hive.op.deny",
    /** An agent's state files and log tail, read by c0re for the operator (never directly). */
    files: {
      list: "hive.op.files.list",
      read: "hive.op.files.read",
      log: "hive.op.files.log",
    },
    /** The operator's controls of one agent's turn loop, answered by its harness. */
    ctl: {
      model: (agent: AgentName) => `hive.op.ctl.${agent}.model`,
      compact: (agent: AgentName) => `hive.op.ctl.${agent}.compact`,
      newSession: (agent: AgentName) => `hive.op.ctl.${agent}.new_session`,
      cancel: (agent: AgentName) => `hive.op.ctl.${agent}.cancel`,
    },
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

  /** Due reminders, sent by the scheduler as `reminder` (broker). */
  sched: {
    send: "hive.sched.send",
  },

  /** Facts: state changes published for whoever listens. */
  events: {
    agentState: (agent: AgentName) => `hive.events.agent.${agent}.state`,
    agentStateAll: "hive.events.agent.*.state",
    agentLifecycle: (agent: AgentName) => `hive.events.agent.${agent}.lifecycle`,
    agentLifecycleAll: "hive.events.agent.*.lifecycle",
    /** A question was asked or closed (c0re). */
    questions: "hive.events.questions",
    /** A reminder was set, delivered, failed a try, or cancelled (scheduler). */
    reminders: "hive.events.reminders",
    /** One recipient's copy of a message changed state: leased, acked, queued again (broker). */
    delivery: "hive.events.delivery",
    /** An approval was created or changed (c0re). */
    approvals: "hive.events.approvals",
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
