import { type ChildProcess, type StdioNull, type StdioPipe, spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import * as z from "zod";
import { LIFELINE_ENV, LIFELINE_STDIN } from "./lifeline.js";
import { LineBuffer } from "./lines.js";
import { groupAlive, signalGroup } from "./proc.js";

/** A service's `{"ready":"<service>", ...details}` stdout line. */
const ReadyLineSchema = z.looseObject({ ready: z.string() });
export type ReadyLine = z.infer<typeof ReadyLineSchema>;

/** How a child process ended. `error` only when it could not be spawned at all. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

/** "code 3", "signal SIGKILL" or "spawn error: ...". */
export function describeExit(e: ExitInfo): string {
  if (e.error !== undefined) return `spawn error: ${e.error}`;
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

export interface SpawnServiceOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wait for `{"ready":"<name>"}`; without it any line with a string `ready` counts. */
  name?: string;
  /**
   * Append stderr and stdout to this file (`logHeader` first). Without it both are kept in
   * memory, the last `keepOutput` characters, for `output()` and start errors.
   */
  logFile?: string;
  /** A line written to `logFile` before the child starts. */
  logHeader?: string;
  /** Without a log file: also copy the child's stderr to ours. */
  echoStderr?: boolean;
  /** Characters of output kept in memory without a log file; default 64000. */
  keepOutput?: number;
  /** `ready` rejects if no ready line came within this many ms. */
  readyTimeoutMs: number;
  /** Replaces the ready line (nats-server has none): polled, with the child's pid, until true. */
  readyTest?: (pid: number) => boolean;
  /**
   * Own process group: the child and whatever it spawns get each signal of `stop()`, and stop
   * waits until no process of the group is left.
   */
  detached?: boolean;
  /**
   * Give the child a lifeline: its stdin is a pipe we never write to or close, and
   * `HIVE_LIFELINE=stdin` tells its `runService` to stop when the pipe reaches EOF. The OS closes
   * the pipe when this process dies, however it dies (SIGKILL included), so the child never
   * outlives its parent.
   */
  lifeline?: boolean;
}

/** A child process started by `spawnService`. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** undefined if it could not be spawned (then `exited` says why). */
  readonly pid: number | undefined;
  /** The ready line; rejects with ServiceStartError on exit or timeout (the child is not stopped). */
  readonly ready: Promise<ReadyLine>;
  readonly exited: Promise<ExitInfo>;
  /** How it ended, once it has. */
  readonly exit: ExitInfo | undefined;
  /** Output kept in memory (empty with a log file). */
  output(): string;
  /**
   * SIGTERM, SIGKILL after `graceMs` (0: SIGKILL at once); resolves once it (and, if detached,
   * its whole group) is gone, with whether SIGKILL was needed. Safe to call twice: the first
   * call's promise is returned.
   */
  stop(graceMs: number): Promise<{ exit: ExitInfo; forced: boolean }>;
}

/** A child exited or timed out before its ready line. */
export class ServiceStartError extends Error {
  override readonly name = "ServiceStartError";
  constructor(
    message: string,
    /** "exited": `exit` says how; "timeout": no ready line within the deadline. */
    readonly reason: "exited" | "timeout",
    readonly exit?: ExitInfo,
  ) {
    super(message);
  }
}

/**
 * Spawns a service with stdout piped (watched for its ready line) and stderr to a log file or
 * memory. Returns at once; `ready` and `exited` settle later.
 */
export function spawnService(o: SpawnServiceOptions): ServiceProcess {
  const label = o.name ?? o.args[0] ?? o.command;
  const keep = o.keepOutput ?? 64_000;
  let mem = "";
  const remember = (s: string): void => {
    mem = (mem + s).slice(-keep);
  };

  const stdin: StdioPipe | StdioNull = o.lifeline ? "pipe" : "ignore";
  // Never pass our own lifeline on: a child without one would see EOF at once and stop.
  const { [LIFELINE_ENV]: _inherited, ...base } = o.env ?? process.env;
  const env = o.lifeline ? { ...base, [LIFELINE_ENV]: LIFELINE_STDIN } : base;
  let child: ChildProcess;
  if (o.logFile !== undefined) {
    const fd = openSync(o.logFile, "a");
    try {
      if (o.logHeader) writeSync(fd, `${o.logHeader}\n`);
      child = spawn(o.command, o.args, {
        env,
        cwd: o.cwd,
        detached: o.detached ?? false,
        stdio: [stdin, "pipe", fd],
      });
    } finally {
      closeSync(fd);
    }
  } else {
    child = spawn(o.command, o.args, {
      env,
      cwd: o.cwd,
      detached: o.detached ?? false,
      stdio: [stdin, "pipe", "pipe"],
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => {
      remember(d);
      if (o.echoStderr) process.stderr.write(d);
    });
  }

  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((res) => {
    child.once("exit", (code, signal) => res({ code, signal }));
    child.once("error", (e) => res({ code: null, signal: null, error: e.message }));
  }).then((e) => {
    exit = e;
    return e;
  });

  let onReady: (r: ReadyLine) => void = () => {};
  const readyLine = new Promise<ReadyLine>((res) => {
    onReady = res;
  });
  let found = false;
  const lines = new LineBuffer((line) => {
    if (found) return;
    const r = parseReadyLine(line, o.name);
    if (r) {
      found = true;
      lines.clear();
      onReady(r);
    }
  });
  const out = o.logFile !== undefined ? openSync(o.logFile, "a") : undefined;
  child.stdout?.on("data", (d: Buffer) => {
    if (out !== undefined) writeSync(out, d);
    else remember(d.toString());
    if (!found) lines.push(d.toString());
  });
  if (out !== undefined) child.stdout?.once("close", () => closeSync(out));

  const tail = (): string => (o.logFile !== undefined ? `; see ${o.logFile}` : `:\n${mem}`);
  const ready = (async () => {
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        readyLine,
        exited,
        new Promise<"timeout">((res) => {
          timer = setTimeout(() => res("timeout"), o.readyTimeoutMs);
        }),
        ...(o.readyTest && child.pid !== undefined
          ? [
              new Promise<ReadyLine>((res) => {
                const test = o.readyTest!;
                const pid = child.pid!;
                const check = (): void => {
                  if (test(pid)) res({ ready: o.name ?? label });
                  else poll = setTimeout(check, 25);
                };
                check();
              }),
            ]
          : []),
      ]);
      if (outcome === "timeout") {
        throw new ServiceStartError(
          `${label}: no ready line within ${o.readyTimeoutMs} ms${tail()}`,
          "timeout",
        );
      }
      if ("ready" in outcome) return outcome;
      throw new ServiceStartError(
        `${label} exited before ready (${describeExit(outcome)})${tail()}`,
        "exited",
        outcome,
      );
    } finally {
      clearTimeout(timer);
      clearTimeout(poll);
    }
  })();
  // Callers that only care about `exited` must not get an unhandled rejection.
  ready.catch(() => {});

  const pid = child.pid;
  const signal = (sig: NodeJS.Signals): void => {
    if (pid === undefined) return;
    if (o.detached) signalGroup(pid, sig);
    else if (exit === undefined) child.kill(sig);
  };
  let stopping: Promise<{ exit: ExitInfo; forced: boolean }> | undefined;
  return {
    child,
    pid,
    ready,
    exited,
    get exit() {
      return exit;
    },
    output: () => mem,
    stop(graceMs) {
      stopping ??= (async () => {
        let forced = false;
        if (exit === undefined) {
          let timer: NodeJS.Timeout | undefined;
          if (graceMs > 0) {
            signal("SIGTERM");
            forced = await Promise.race([
              exited.then(() => false),
              new Promise<true>((res) => {
                timer = setTimeout(() => res(true), graceMs);
              }),
            ]);
            clearTimeout(timer);
          } else forced = true;
          if (forced) signal("SIGKILL");
        }
        const e = await exited;
        if (o.detached && pid !== undefined) {
          // Grandchildren are reaped by init, not us; give them a moment to disappear.
          const deadline = Date.now() + 2000;
          while (groupAlive(pid) && Date.now() < deadline) {
            signalGroup(pid, "SIGKILL");
            await delay(20);
          }
        }
        return { exit: e, forced };
      })();
      return stopping;
    },
  };
}

/**
 * `spawnService`, then waits for the ready line; if it does not come, stops the child (SIGKILL
 * after `failGraceMs`, default 2000) and throws the ServiceStartError.
 */
export async function startService(
  o: SpawnServiceOptions & { failGraceMs?: number },
): Promise<ServiceProcess & { readonly readyLine: ReadyLine }> {
  const p = spawnService(o);
  try {
    const readyLine = await p.ready;
    return Object.assign(p, { readyLine });
  } catch (e) {
    await p.stop(o.failGraceMs ?? 2000);
    throw e;
  }
}

/** The ready line in `line`, if it is one (for `name`, if given). */
export function parseReadyLine(line: string, name?: string): ReadyLine | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(t);
  } catch {
    return undefined;
  }
  const v = ReadyLineSchema.safeParse(raw);
  if (!v.success || (name !== undefined && v.data.ready !== name)) return undefined;
  return v.data;
}
