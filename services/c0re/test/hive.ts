import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  AgentLifecycleEvent,
  AgentStateEvent,
  ApprovalEvent,
  childPids,
  decodeJson,
  type ErrorCode,
  HiveError,
  InboxAnnouncement,
  type NatsConnection,
  processAlive,
  Roster,
  readProcCmdline,
  request,
  rpcs,
  startService,
  subjects,
} from "@hyperhive/shared";
import { natsForTests, repoRoot, tempDir } from "@hyperhive/shared/testing";
import { connect } from "@nats-io/transport-node";
import { z } from "zod";

/** The repository root. */
export const REPO = repoRoot(import.meta.url);
/** The built entry points the c0re tests run as real processes, and the real claude. */
export const BIN = {
  broker: join(REPO, "services/broker/dist/src/main.js"),
  modelServer: join(REPO, "services/model-server/dist/src/main.js"),
  harness: join(REPO, "services/harness/dist/src/main.js"),
  c0re: join(REPO, "services/c0re/dist/src/main.js"),
  claude: join(REPO, "node_modules/.bin/claude"),
};

/** Not a skip: a test run without the built services is a broken run, said in one line. */
export function assertBuilt(): void {
  for (const bin of Object.values(BIN)) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
  }
}

/** A service process that printed its ready line. */
export interface Proc {
  child: ChildProcess;
  ready: Record<string, unknown>;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts a built service entry point and waits (with a deadline) for its ready line. */
export async function startProc(
  name: string,
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Proc> {
  const p = await startService({
    name,
    command: process.execPath,
    args: [entry, ...args],
    env,
    readyTimeoutMs: 30_000,
    keepOutput: 20_000,
  });
  return {
    child: p.child,
    ready: p.readyLine,
    exited: p.exited.then((e) => e.code),
    output: () => p.output(),
  };
}

/** SIGTERM to a process still running, and its exit awaited. */
export async function stopProc(p: Proc | undefined): Promise<void> {
  if (p && p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill("SIGTERM");
    await p.exited;
  }
}

/**
 * Pushes every valid payload on `subject` into `into` (junk, as the malformed-payload tests
 * publish, is skipped). Flush the connection before relying on it.
 */
export function collect<T>(
  nc: NatsConnection,
  subject: string,
  schema: z.ZodType<T>,
  into: T[],
): void {
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) {
      let raw: unknown;
      try {
        raw = decodeJson(m.data);
      } catch {
        continue;
      }
      const v = schema.safeParse(raw);
      if (v.success) into.push(v.data);
    }
  })();
}

/** A process's command line as one string. */
export const cmdline = (pid: number): string => (readProcCmdline(pid) ?? []).join(" ");

/** The harness processes a c0re process runs (its direct children). */
export function harnessPids(c0re: Proc): number[] {
  const pid = c0re.child.pid;
  if (pid === undefined) return [];
  return childPids(pid).filter(
    (p) => processAlive(p) && cmdline(p).includes("harness/dist/src/main.js"),
  );
}

/**
 * git as the manager (or the test) runs it: a plain environment, the repository's own config
 * (no hooks of c0re's overrides, no global config of the machine's).
 */
export function plainGit(dir: string, ...args: string[]): string {
  // safe.directory: under the bwrap driver the clone is the manager's uid's, not the test's.
  return execFileSync("git", ["-c", "safe.directory=*", "-C", dir, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  }).trim();
}

/** One request the model server logged (`GET /_requests`); it says more than this. */
const LoggedRequest = z.looseObject({ model: z.string().nullable(), text: z.string() });

/** The model server's control API: the script, and the requests it has seen. */
export class ModelControl {
  constructor(readonly url: string) {}

  async setScript(rules: unknown): Promise<void> {
    const r = await fetch(`${this.url}/_script`, { method: "PUT", body: JSON.stringify(rules) });
    if (!r.ok) throw new Error(`PUT /_script: ${r.status} ${await r.text()}`);
  }

  async requests(): Promise<z.infer<typeof LoggedRequest>[]> {
    const r = await fetch(`${this.url}/_requests`);
    return z.array(LoggedRequest).parse(await r.json());
  }

  async clearRequests(): Promise<void> {
    await fetch(`${this.url}/_requests`, { method: "DELETE" });
  }
}

/** What a test hive's observer has seen, in order of arrival. */
export interface Seen {
  lifecycle: AgentLifecycleEvent[];
  states: AgentStateEvent[];
  /** Every approval event: each change of an approval, in order. */
  approvals: ApprovalEvent[];
  /** Announcements of every inbox (agents' and the operator's). */
  mail: InboxAnnouncement[];
  rosters: Roster[];
}

/** nats-server, broker, model server and c0re (built entry points) on a temp hive root. */
export interface Hive {
  root: string;
  nc: NatsConnection;
  model: ModelControl;
  /** The running c0re (replaced by {@link Hive.startC0re}). */
  c0re: Proc;
  seen: Seen;
  /** Starts another c0re on the same root with the same environment (after the first died). */
  startC0re(): Promise<Proc>;
  /** Stops everything and removes the root. */
  stop(): Promise<void>;
}

/** A fake commit of the hyperhive source, to see HYPERHIVE_REV reach the harnesses. */
export const TEST_REV = "0123456789abcdef0123456789abcdef01234567";

/** Starts a hive for one test file; `env` adds to c0re's environment. */
export async function startHive(prefix: string, env: Record<string, string> = {}): Promise<Hive> {
  assertBuilt();
  const server = await natsForTests();
  const nc = await connect({ servers: server.url });
  const tmp = tempDir(prefix);
  const seen: Seen = { lifecycle: [], states: [], approvals: [], mail: [], rosters: [] };
  collect(nc, subjects.events.agentLifecycleAll, AgentLifecycleEvent, seen.lifecycle);
  collect(nc, subjects.events.agentStateAll, AgentStateEvent, seen.states);
  collect(nc, subjects.events.approvals, ApprovalEvent, seen.approvals);
  collect(nc, subjects.inbox("*"), InboxAnnouncement, seen.mail);
  collect(nc, subjects.events.roster, Roster, seen.rosters);
  await nc.flush();
  const base = {
    ...process.env,
    NATS_URL: server.url,
    HIVE_ROOT: tmp.path,
    HIVE_LOG_LEVEL: "info",
  };
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await stopProc(p);
    await nc.close();
    await server.stop();
    tmp.remove();
  };
  try {
    procs.push(await startProc("broker", BIN.broker, [], base));
    const modelProc = await startProc("model-server", BIN.modelServer, ["--port", "0"], base);
    procs.push(modelProc);
    const modelUrl = String(modelProc.ready.url);
    const c0reEnv = {
      ...base,
      HOME: join(tmp.path, "home"),
      HIVE_HARNESS_BIN: BIN.harness,
      HIVE_CLAUDE_BIN: BIN.claude,
      HIVE_MODEL_URL: modelUrl,
      HIVE_MODEL: "haiku",
      HYPERHIVE_REV: TEST_REV,
      C0RE_STOP_GRACE_MS: "3000",
      ...env,
    };
    const startC0re = async (): Promise<Proc> => {
      const p = await startProc("c0re", BIN.c0re, [], c0reEnv);
      procs.push(p);
      hive.c0re = p;
      return p;
    };
    const hive: Hive = {
      root: tmp.path,
      nc,
      model: new ModelControl(modelUrl),
      c0re: await startProc("c0re", BIN.c0re, [], c0reEnv),
      seen,
      startC0re,
      stop,
    };
    procs.push(hive.c0re);
    return hive;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The requests the tests make, typed: the operator's, and the manager's verbs as any caller. */
export function calls(nc: NatsConnection) {
  const long = { timeoutMs: 40_000 };
  const agentSubject = subjects.agent;
  return {
    agents: async (all?: boolean) =>
      (await request(nc, subjects.op.agents, rpcs.opAgents, all === undefined ? {} : { all }))
        .agents,
    approvals: async (all?: boolean) =>
      (await request(nc, subjects.op.approvals, rpcs.opApprovals, all === undefined ? {} : { all }))
        .approvals,
    approve: async (id: number) =>
      (await request(nc, subjects.op.approve, rpcs.opApprove, { id }, long)).approval,
    deny: async (id: number, reason?: string) =>
      (
        await request(
          nc,
          subjects.op.deny,
          rpcs.opDeny,
          reason === undefined ? { id } : { id, reason },
        )
      ).approval,
    destroy: async (name: string) =>
      (await request(nc, subjects.op.agentDestroy, rpcs.opAgentLifecycle, { name }, long)).agent,
    purge: (name: string, confirm: string) =>
      request(nc, subjects.op.agentPurge, rpcs.opPurge, { name, confirm }, long),
    restartAll: () =>
      request(nc, subjects.op.restartAll, rpcs.opRestartAll, {}, { timeoutMs: 180_000 }),
    send: (to: string, body: string) => request(nc, subjects.op.send, rpcs.send, { to, body }),
    spawn: async (name: string, caller = "manager") =>
      (await request(nc, agentSubject.spawn(caller), rpcs.spawn, { name })).approval,
    verb: async (verb: "kill" | "start" | "restart" | "update", name: string, caller = "manager") =>
      (await request(nc, agentSubject[verb](caller), rpcs.agentLifecycle, { name }, long)).agent,
    applyCommit: async (agent: string, commit_ref: string, caller = "manager") =>
      (
        await request(
          nc,
          agentSubject.applyCommit(caller),
          rpcs.applyCommit,
          { agent, commit_ref },
          long,
        )
      ).approval,
  };
}

/** An `assert.rejects` check: a HiveError with `code` whose message matches `re`. */
export function hiveError(code: ErrorCode, re: RegExp = /./) {
  return (e: unknown): boolean => HiveError.is(e, code) && re.test(e.message);
}
