import {
  type AgentName,
  ErrorCode,
  HiveError,
  type NatsConnection,
  type RpcSpec,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import type { z } from "zod";
import { ask, type RetryOn, unheard, withHive } from "./client.js";
import type { Output } from "./output.js";

/**
 * The operator's controls of one agent's turn loop, answered by that agent's harness on
 * `hive.op.ctl.<agent>.<verb>`: `hive model`, `hive compact`, `hive new-session`, `hive cancel`.
 * Their effects show live on the dashboard; here each prints what the harness answered.
 */

/**
 * When nobody answers an agent's controls, c0re's registry says why: no such agent (not_found),
 * a tombstone (conflict), or not running (unavailable: start it). Returns when the agent is
 * running, so its harness may just be coming up; a silent c0re leaves the first error standing.
 */
async function explainSilence(nc: NatsConnection, agent: AgentName, first: unknown): Promise<void> {
  let list: Awaited<ReturnType<typeof listAgents>>;
  try {
    list = await listAgents(nc);
  } catch {
    throw first;
  }
  const a = list.find((x) => x.name === agent);
  if (!a) {
    const names = list.filter((x) => x.tombstoned_at === null).map((x) => x.name);
    throw new HiveError(
      ErrorCode.NotFound,
      `no agent named ${agent}; the agents are: ${names.join(", ") || "none"}`,
    );
  }
  if (a.tombstoned_at !== null) {
    throw new HiveError(
      ErrorCode.Conflict,
      `${agent} is destroyed (a tombstone): it runs no turns`,
    );
  }
  if (!a.running) {
    throw new HiveError(
      ErrorCode.Unavailable,
      `${agent} is not running; start it with: hive start ${agent}`,
      { retryable: false },
    );
  }
}

async function listAgents(nc: NatsConnection) {
  const res = await ask(
    nc,
    subjects.op.agents,
    rpcs.opAgents,
    { all: true },
    { retryOn: "unheard" },
  );
  return res.agents;
}

/** One control request to `agent`'s harness; silence is explained, or waited out a few seconds. */
function control<Req extends z.ZodType, Res extends z.ZodType>(
  root: string,
  agent: AgentName,
  verb: keyof typeof subjects.op.ctl,
  spec: RpcSpec<Req, Res>,
  payload: z.input<Req>,
  retryOn: RetryOn,
): Promise<z.infer<Res>> {
  spec.request.parse(payload);
  const subject = subjects.op.ctl[verb](agent);
  return withHive(root, async (nc) => {
    try {
      // One try first: silence is worth a look at the registry before any waiting.
      return await ask(nc, subject, spec, payload, { retryOn: "never" });
    } catch (e) {
      if (unheard(e)) await explainSilence(nc, agent, e);
      else if (!(retryOn === "transient" && e instanceof HiveError && e.retryable)) throw e;
      return await ask(nc, subject, spec, payload, { retryOn });
    }
  });
}

/** `hive model <agent> <model>`: its next turn (and every one after) uses `model`. */
export async function setModel(
  root: string,
  agent: AgentName,
  model: string,
  out: Output,
): Promise<void> {
  const res = await control(root, agent, "model", rpcs.ctlModel, { model }, "transient");
  out.result(res, `${agent}: model ${res.model} (was ${res.previous}); its next turn uses it`);
}

/** `hive compact <agent>`: compacts an idle agent's session now; it runs as a live turn. */
export async function compact(root: string, agent: AgentName, out: Output): Promise<void> {
  const res = await control(root, agent, "compact", rpcs.ctlCompact, {}, "unheard");
  out.result(res, `${agent}: compacting its session (turn ${res.turn_id}, live on the dashboard)`);
}

/** `hive new-session <agent>`: its next turn starts a fresh claude session, once. */
export async function newSession(root: string, agent: AgentName, out: Output): Promise<void> {
  const res = await control(root, agent, "newSession", rpcs.ctlNewSession, {}, "transient");
  out.result(res, `${agent}: its next turn starts a fresh session`);
}

/** `hive cancel <agent>`: kills its running turn; the turn's message is retried, not lost. */
export async function cancel(root: string, agent: AgentName, out: Output): Promise<void> {
  const res = await control(root, agent, "cancel", rpcs.ctlCancel, {}, "unheard");
  out.result(
    res,
    res.cancelled
      ? `${agent}: cancelled turn ${res.turn_id}; its message is tried again (after the last try it comes back to you)`
      : `${agent}: no turn was running; nothing cancelled`,
  );
}
