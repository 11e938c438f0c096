import type { AgentName } from "../names.js";
import type { AgentRole } from "../schemas/c0re.js";
import { subjects } from "../subjects.js";

/**
 * Who connects to NATS, and what each may publish and subscribe to: the one table the hive's
 * user credentials are minted from (docs/architecture.md's security section is tested against
 * it). Identity is the subject: an agent may only publish requests that carry its own name, and
 * subscribe only to what is addressed to it; each service only to what it serves; the operator
 * (web, CLI) to `hive.op.>`. Subscribe rules are what stop fake responders and eavesdroppers.
 */

/** The services of the hive, each with a user of its own. */
export const SERVICE_IDENTITIES = ["broker", "c0re", "scheduler", "web", "supervisor"] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

export type Identity =
  | { kind: "agent"; name: AgentName; role: AgentRole }
  | { kind: "service"; name: ServiceIdentity }
  /** The operator's command line (`hive ...`). */
  | { kind: "operator" };

/** What one identity may do. */
export interface Grants {
  /** Subjects it may publish to (requests and events). */
  publish: string[];
  /** Subjects it may subscribe to: what it serves, listens to, and its own reply inbox. */
  subscribe: string[];
  /**
   * It answers requests: it may publish once to the reply subject of each request it received
   * (NATS `allow_responses`), and nowhere else under `_INBOX`.
   */
  responds: boolean;
}

/** A short name for logs, connection names and file names: `agent.alice`, `broker`, `operator`. */
export function identityLabel(id: Identity): string {
  return id.kind === "agent" ? `agent.${id.name}` : id.kind === "service" ? id.name : "operator";
}

/**
 * The identity's own prefix for request replies (`_INBOX.<label>`): only it may subscribe there,
 * so no one else reads its replies.
 */
export function inboxPrefix(id: Identity): string {
  return `_INBOX.${identityLabel(id)}`;
}

const a = subjects.agent;
const w = subjects.agentWildcard;
const op = subjects.op;

/** An agent's requests as itself: the mail, questions and reminders every agent has. */
function agentVerbs(name: AgentName): string[] {
  return [
    a.send(name),
    a.recv(name),
    a.recvBatch(name),
    a.ack(name),
    a.extend(name),
    a.release(name),
    a.ask(name),
    a.answer(name),
    a.asks(name),
    a.cancelAsk(name),
    a.threads(name),
    a.remind(name),
    a.reminders(name),
    a.cancelReminder(name),
  ];
}

/** The manager's verbs on top of those. */
function managerVerbs(name: AgentName): string[] {
  return [
    a.spawn(name),
    a.kill(name),
    a.start(name),
    a.restart(name),
    a.update(name),
    a.applyCommit(name),
  ];
}

/** The grants of `id`. */
export function grantsFor(id: Identity): Grants {
  const inbox = `${inboxPrefix(id)}.>`;
  switch (id.kind) {
    case "agent": {
      const n = id.name;
      return {
        publish: [
          ...agentVerbs(n),
          ...(id.role === "manager" ? managerVerbs(n) : []),
          subjects.live(n),
          subjects.events.agentState(n),
          subjects.turnStats(n),
        ],
        // Its controls (the harness answers the operator's), its announcements, broadcasts.
        subscribe: [inbox, `hive.op.ctl.${n}.*`, subjects.inbox(n), subjects.broadcast],
        responds: true,
      };
    }
    case "operator":
      return {
        publish: ["hive.op.>"],
        subscribe: [inbox, "hive.events.>"],
        responds: false,
      };
    case "service":
      return serviceGrants(id.name, inbox);
  }
}

function serviceGrants(name: ServiceIdentity, inbox: string): Grants {
  switch (name) {
    case "broker":
      return {
        publish: [
          "hive.inbox.*",
          subjects.broadcast,
          subjects.events.delivery,
          subjects.c0re.roster,
        ],
        subscribe: [
          inbox,
          w.send,
          w.recv,
          w.recvBatch,
          w.ack,
          w.extend,
          w.release,
          op.send,
          op.inbox,
          op.history,
          subjects.sys.send,
          subjects.sched.send,
          subjects.events.roster,
        ],
        responds: true,
      };
    case "c0re":
      return {
        publish: [
          subjects.sys.send,
          subjects.events.agentStateAll,
          subjects.events.agentLifecycleAll,
          subjects.events.approvals,
          subjects.events.questions,
          subjects.events.roster,
        ],
        subscribe: [
          inbox,
          w.spawn,
          w.kill,
          w.start,
          w.restart,
          w.update,
          w.applyCommit,
          w.ask,
          w.answer,
          w.asks,
          w.cancelAsk,
          w.threads,
          op.agents,
          "hive.op.agent.*",
          op.restartAll,
          op.approvals,
          op.approve,
          op.deny,
          op.questions,
          op.answer,
          op.cancelQuestion,
          op.threads,
          "hive.op.files.*",
          subjects.c0re.roster,
          subjects.events.agentStateAll,
        ],
        responds: true,
      };
    case "scheduler":
      return {
        publish: [subjects.sched.send, subjects.events.reminders, subjects.c0re.roster],
        subscribe: [
          inbox,
          w.remind,
          w.reminders,
          w.cancelReminder,
          op.reminders,
          op.remind,
          op.cancelReminder,
          op.retryReminder,
          op.reminderCounts,
          subjects.events.roster,
        ],
        responds: true,
      };
    case "web":
      return {
        publish: ["hive.op.>"],
        subscribe: [inbox, "hive.events.>", subjects.liveAll, "hive.inbox.*", subjects.broadcast],
        responds: false,
      };
    case "supervisor":
      return {
        publish: [subjects.events.serviceAll],
        subscribe: [inbox],
        responds: false,
      };
  }
}
