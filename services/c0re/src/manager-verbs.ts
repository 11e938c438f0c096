import {
  type AgentName,
  ErrorCode,
  HiveError,
  type Logger,
  type NatsConnection,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import type { Msg } from "@nats-io/transport-node";
import type { AgentControl, AgentReply } from "./agent-control.js";
import type { ApprovalQueue } from "./approval-queue.js";
import type { Registry } from "./registry.js";

export interface ManagerVerbsOptions {
  nc: NatsConnection;
  log: Logger;
  registry: Registry;
  agents: AgentControl;
  queue: ApprovalQueue;
}

/**
 * Serves the manager's verbs, `hive.agent.<caller>.spawn|kill|start|restart|update|apply_commit`
 * (queue group c0re). The caller is the subject's second token, never the payload; anyone whose
 * registry role is not manager is refused (`forbidden`). Lifecycle verbs act on active
 * sub-agents only: the manager's own lifecycle is the operator's.
 */
export function serveManagerVerbs(o: ManagerVerbsOptions): Service[] {
  const { nc, log, registry, agents, queue } = o;
  const opts = { queue: "c0re", log };
  const w = subjects.agentWildcard;

  /** The caller, if it is the manager. */
  const manager = (msg: Msg, verb: string): AgentName => {
    const { name, row } = registry.caller(msg.subject);
    if (row?.role !== "manager") {
      throw new HiveError(ErrorCode.Forbidden, `only the manager may ${verb} (you are ${name})`);
    }
    return row.name;
  };
  /** A sub-agent the manager may run or stop. */
  const subAgent = (name: AgentName): AgentName => {
    const row = registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    if (row.role === "manager") {
      throw new HiveError(ErrorCode.Forbidden, "the manager's own lifecycle is the operator's");
    }
    return name;
  };
  /** A lifecycle verb on a sub-agent. */
  const verb = (subject: string, name: string, act: (n: AgentName) => Promise<AgentReply>) =>
    serve(
      nc,
      subject,
      rpcs.agentLifecycle,
      (r, msg) => {
        manager(msg, name);
        return act(subAgent(r.name));
      },
      opts,
    );

  return [
    serve(
      nc,
      w.spawn,
      rpcs.spawn,
      (r, msg) => ({ approval: queue.submitSpawn(manager(msg, "request_spawn"), r.name) }),
      opts,
    ),
    verb(w.kill, "kill", (n) => agents.stop(n)),
    verb(w.start, "start", (n) => agents.start(n)),
    verb(w.restart, "restart", (n) => agents.restart(n)),
    verb(w.update, "update", (n) => agents.update(n)),
    serve(
      nc,
      w.applyCommit,
      rpcs.applyCommit,
      async (r, msg) => {
        const caller = manager(msg, "request_apply_commit");
        return { approval: await queue.submitApplyCommit(caller, r.agent, r.commit_ref) };
      },
      opts,
    ),
  ];
}
