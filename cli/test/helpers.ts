import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  connectNats,
  HiveRuntime,
  hivePaths,
  listPids,
  parseEvent,
  processAlive,
  readProcCmdline,
  readProcStat,
  ServiceEvent,
  subjects,
} from "@hyperhive/shared";
import { repoRoot, waitUntil } from "@hyperhive/shared/testing";
import { z } from "zod";
import { readProcessRecord } from "../src/leftovers.js";
import { rootPaths } from "../src/paths.js";

/** The repository root. */
export const REPO = repoRoot(import.meta.url);
export const HIVE = join(REPO, "cli/bin/hive.js");

const BUILT = ["broker", "c0re", "harness", "model-server", "scheduler", "web"]
  .map((s) => join(REPO, `services/${s}/dist/src/main.js`))
  .concat(join(REPO, "cli/dist/src/nats-guard.js"), join(REPO, "cli/dist/src/main.js"));
const missing = BUILT.filter((p) => !existsSync(p));
// Not a skip: a test run without the built services is a broken run, said in one line.
if (missing.length > 0) {
  throw new Error(`not built (run npm run build): ${missing.join(", ")}`);
}

/** An environment with no hive or NATS of the developer's leaking in. */
export function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, HIVE_LOG_LEVEL: "info" };
  for (const k of [
    "NATS_URL",
    "HIVE_ROOT",
    "ANTHROPIC_API_KEY",
    "HIVE_CLAUDE_BIN",
    "HIVE_LIFELINE",
    "HIVE_WEB_TOKEN",
    "NATS_CREDS",
    "HIVE_NATS_KEYS_DIR",
  ]) {
    delete env[k];
  }
  return env;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const run = promisify(execFile);

/**
 * How long a `hive` command may run here: past its own retries of a silent hive (six tries of 5 s,
 * ~35 s), so a command that gives up says why rather than being killed mid-way.
 */
const HIVE_COMMAND_MS = 60_000;

/** Runs a `hive` command to completion. */
export async function hive(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  const started = Date.now();
  try {
    const r = await run(process.execPath, [HIVE, ...args], { env, timeout: HIVE_COMMAND_MS });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    if (e instanceof Error && "stdout" in e && "stderr" in e) {
      const code = "code" in e && typeof e.code === "number" ? e.code : -1;
      const killed = "killed" in e && e.killed === true;
      const note = killed ? `(hive ${args[0]} killed after ${Date.now() - started} ms)\n` : "";
      return { code, stdout: String(e.stdout), stderr: `${String(e.stderr)}${note}` };
    }
    throw e;
  }
}

/** Every live descendant of `root`, found through /proc. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const pid of listPids()) {
    const s = readProcStat(pid);
    if (s && s.state !== "Z") parent.set(pid, s.ppid);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) {
      if (pp === p) {
        out.push(pid);
        walk(pid);
      }
    }
  };
  walk(root);
  return out;
}

export function cmdline(pid: number): string {
  return (readProcCmdline(pid) ?? []).join(" ");
}

/** Waits until none of `pids` is alive; fails naming the ones left. */
export async function allGone(pids: Iterable<number>, timeoutMs: number): Promise<void> {
  const list = [...pids];
  await waitUntil(() => list.every((p) => !processAlive(p)), {
    timeoutMs,
    intervalMs: 50,
    what: `no process left among ${list
      .filter(processAlive)
      .map((p) => `${p} (${cmdline(p)})`)
      .join(", ")}`,
  });
}

/** A `hive up` running as a child process, its output captured. */
export interface Up {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** With `umask` (e.g. "000"), `hive up` is started through `sh -c 'umask …; exec …'`. */
export function startUp(args: string[], env: NodeJS.ProcessEnv, o: { umask?: string } = {}): Up {
  return startHive(["up", ...args], env, o);
}

/** A `hive` command that runs until stopped (`hive up`, `hive logs --follow`), as a child process. */
export function startHive(args: string[], env: NodeJS.ProcessEnv, o: { umask?: string } = {}): Up {
  const argv = [HIVE, ...args];
  const [command, commandArgs] =
    o.umask === undefined
      ? [process.execPath, argv]
      : ["sh", ["-c", `umask ${o.umask} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(command, commandArgs, { env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`hive ${args[0]} did not start`);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  return { child, pid: child.pid, exited, stdout: () => out, stderr: () => err };
}

const UpLine = z.object({ up: z.object({ dashboard: z.string() }) });

/** The dashboard URL `hive up` printed: its text line, or with --json its `{"up":…}` line. */
function printedDashboard(stdout: string): string | undefined {
  const text = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(stdout);
  if (text) return text[1];
  for (const line of jsonLines(stdout)) {
    const up = UpLine.safeParse(line);
    if (up.success) return up.data.up.dashboard;
  }
  return undefined;
}

/** The JSON values of `--json` output, one per line. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l): unknown => JSON.parse(l));
}

/** Waits for `hive up`'s dashboard URL; fails at once if it exits first. */
export async function dashboardOf(up: Up, timeoutMs = 120_000): Promise<string> {
  return waitUntil(
    () => {
      if (up.child.exitCode !== null) {
        throw new Error(`hive up exited ${up.child.exitCode}:\n${up.stderr()}`);
      }
      return printedDashboard(up.stdout());
    },
    { timeoutMs, what: "the dashboard URL" },
  );
}

/** `<root>/hive.json`, parsed. */
export function runtimeOf(root: string): HiveRuntime {
  return HiveRuntime.parse(JSON.parse(readFileSync(hivePaths(root).runtimeFile, "utf8")));
}

/** Stops a `hive up` that is still running (test clean-up). */
export async function stopUp(up: Up | undefined): Promise<void> {
  if (up && up.child.exitCode === null && up.child.signalCode === null) {
    up.child.kill("SIGTERM");
    await up.exited;
  }
}

/**
 * The pid `hive up` recorded for `service` at `root` (with `match`: the one whose command line
 * holds it, e.g. nats-server's own beside its guard's).
 */
export function recordedPid(root: string, service: string, match?: string): number | undefined {
  const record = readProcessRecord(rootPaths(root));
  return record?.processes.find(
    (p) => p.service === service && (match === undefined || cmdline(p.pid).includes(match)),
  )?.pid;
}

/**
 * Every ServiceEvent on `hive.events.service.*` of the NATS at `url`, as it arrives; with a
 * hive's own nats-server, as its operator (`credsFile`: hive.json's `nats_creds`).
 */
export async function watchServiceEvents(url: string, credsFile?: string) {
  const nc = await connectNats({ url, name: "test-service-events", credsFile });
  const events: ServiceEvent[] = [];
  const sub = nc.subscribe(subjects.events.serviceAll);
  void (async () => {
    for await (const m of sub) {
      const ev = parseEvent(ServiceEvent, m);
      if (ev) events.push(ev);
    }
  })();
  await nc.flush();
  return { nc, events, close: () => nc.close() };
}
