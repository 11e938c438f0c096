import { type AgentName, ErrorCode, HiveError, rpcs, subjects } from "@hyperhive/shared";
import { askHive, TIMEOUTS } from "./client.js";
import { typeToConfirm } from "./confirm.js";
import type { Output } from "./output.js";
import { readRuntime } from "./runtime.js";

/**
 * The operator's lifecycle commands, answered by c0re once done: `hive kill|start|restart
 * <name>`, `hive restart --all`, `hive destroy <name>` and `hive purge <name>`. None is retried
 * once c0re has taken it (only when nobody answered), so nothing is done twice.
 */

/** What each of kill, start and restart asks c0re, and how its answer is said. */
const VERBS = {
  kill: {
    subject: subjects.op.agentStop,
    said: (name: string) => `stopped ${name}; it stays stopped until: hive start ${name}`,
  },
  start: {
    subject: subjects.op.agentStart,
    said: (name: string, starts: number) => `started ${name} (start #${starts})`,
  },
  restart: {
    subject: subjects.op.agentRestart,
    said: (name: string, starts: number) => `restarted ${name} (start #${starts})`,
  },
} as const;
export type LifecycleVerb = keyof typeof VERBS;

/** `hive kill|start|restart <name>` (hive.op.agent.stop|start|restart). */
export async function lifecycle(
  root: string,
  verb: LifecycleVerb,
  name: AgentName,
  out: Output,
): Promise<void> {
  const v = VERBS[verb];
  const res = await askHive(
    root,
    v.subject,
    rpcs.opAgentLifecycle,
    { name },
    {
      retryOn: "unheard",
      timeoutMs: TIMEOUTS.lifecycle,
    },
  );
  out.result(res, v.said(name, res.agent.starts));
}

/**
 * `hive restart --all`: c0re restarts the manager, waits until it is idle again (up to its own
 * deadline), then the others, and answers when done; the answer says in which order.
 */
export async function restartAll(root: string, out: Output): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.restartAll,
    rpcs.opRestartAll,
    {},
    {
      retryOn: "unheard",
      timeoutMs: TIMEOUTS.restartAll,
    },
  );
  const order =
    res.restarted.length === 0 ? "restarted no agent" : `restarted ${res.restarted.join(", ")}`;
  const late = res.manager_idle
    ? ""
    : " (the manager was not idle again in time; the others were restarted anyway)";
  out.result(res, `${order}${late}`);
}

/** `hive destroy <name>`: the agent stops for good and becomes a tombstone; its state is kept. */
export async function destroy(root: string, name: AgentName, out: Output): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.agentDestroy,
    rpcs.opAgentLifecycle,
    { name },
    {
      retryOn: "unheard",
      timeoutMs: TIMEOUTS.lifecycle,
    },
  );
  out.result(
    res,
    `destroyed ${name}: a tombstone now, its state dir kept (${res.agent.state_dir}); hive purge ${name} deletes it`,
  );
}

/**
 * `hive purge <name>`: deletes a tombstone's state dir and frees the name. With `ask`, the
 * operator types the name on the terminal first (a typo purges nothing). c0re gets the name as
 * `confirm`.
 */
export async function purge(
  root: string,
  name: AgentName,
  o: { ask: boolean },
  out: Output,
): Promise<void> {
  if (o.ask) {
    readRuntime(root); // No hive: say so before asking for anything.
    const typed = await typeToConfirm(
      `purge deletes ${name}'s state dir for good and frees the name; type ${name} to go on: `,
    );
    if (typed !== name) {
      const what = typed === undefined ? "nothing was typed" : `${JSON.stringify(typed)} was typed`;
      throw new HiveError(ErrorCode.BadRequest, `not purged: ${what}, not ${name}`);
    }
  }
  const res = await askHive(
    root,
    subjects.op.agentPurge,
    rpcs.opPurge,
    { name, confirm: name },
    {
      retryOn: "unheard",
      timeoutMs: TIMEOUTS.lifecycle,
    },
  );
  out.result(res, `purged ${res.name}: deleted ${res.state_dir}; the name is free`);
}
