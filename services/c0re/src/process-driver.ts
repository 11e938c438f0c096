import { mkdirSync } from "node:fs";
import {
  type AgentName,
  type Clock,
  describeExit,
  hivePaths,
  type Logger,
  type RetryPolicy,
  ServiceStartError,
  spawnService,
  systemClock,
} from "@hyperhive/shared";
import { agentLogFile, tailFile } from "./agent-log.js";
import { type AgentSpec, type ContainerDriver, HarnessStartError } from "./driver.js";
import { type HarnessSettings, harnessEnv } from "./harness-env.js";
import { clearPidFile, reapStaleHarness, writePidFile } from "./stale-harness.js";
import { type Launcher, type Run, Supervisor } from "./supervisor.js";

/** Settings of the process driver; every field but the paths and the log has a default. */
export interface ProcessDriverOptions extends HarnessSettings {
  /** Program to run per agent, as `node <harnessBin> serve`. */
  harnessBin: string;
  /** Environment the harness inherits (PATH, HOME, ...); default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long a start may take until the ready line, ms; default 30000. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on stop, ms; default 5000. */
  stopGraceMs?: number;
  /** Pauses between restarts; default the supervisor's (0.5 s doubling to 30 s, no limit). */
  restartPolicy?: RetryPolicy;
  /** A run at least this long resets the backoff, ms; default 60000. */
  resetAfterMs?: number;
  log: Logger;
  /** Timestamps and restart timers; default the system clock. */
  clock?: Clock;
}

/** Lines of the harness's log quoted in a failed start's error. */
const START_ERROR_TAIL_LINES = 15;

/**
 * Runs each agent's harness as a plain child process (the development driver): `node <harness>
 * serve`, with cwd its state dir, detached in its own process group (so a stop reaches claude and
 * whatever else the harness spawned), on a lifeline (so it stops by itself when c0re dies, even
 * by SIGKILL), its output appended to `<root>/logs/<name>.log`. Supervision is the shared
 * {@link Supervisor}'s.
 */
export class ProcessDriver extends Supervisor implements ContainerDriver {
  readonly kind: string = "process";
  protected readonly root: string;

  /** `launcher`: what a start runs (the bwrap driver's wraps the harness in its sandbox). */
  constructor(o: ProcessDriverOptions, launcher?: ProcessLauncher) {
    const clock = o.clock ?? systemClock;
    super({
      launcher: launcher ?? new ProcessLauncher(o, clock),
      clock,
      log: o.log,
      ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
      ...(o.resetAfterMs === undefined ? {} : { resetAfterMs: o.resetAfterMs }),
      ...(o.stopGraceMs === undefined ? {} : { stopGraceMs: o.stopGraceMs }),
    });
    this.root = o.root;
  }

  /** Makes the agent's state dir, run dir and the logs dir. */
  async create(spec: AgentSpec): Promise<void> {
    const paths = hivePaths(this.root);
    mkdirSync(paths.agentStateDir(spec.name), { recursive: true });
    mkdirSync(paths.agentRunDir(spec.name), { recursive: true });
    mkdirSync(paths.logsDir, { recursive: true });
    // Where agents leave files for each other (c0re's uid is theirs too: theirs to write in).
    mkdirSync(paths.sharedDir, { recursive: true });
  }

  /** Agents run as c0re's own user here: what c0re wrote is theirs already. */
  adopt(_name: AgentName, _path: string): void {}
}

/** What a launch runs: the bwrap driver wraps the harness in its sandbox. */
export interface HarnessCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * One harness run as a child process: spawn, pid file, ready line, and a failure's log tail.
 * Shared with the bwrap driver, which overrides {@link ProcessLauncher.command}.
 */
export class ProcessLauncher implements Launcher {
  readonly #o: ProcessDriverOptions;
  readonly #clock: Clock;

  constructor(o: ProcessDriverOptions, clock: Clock) {
    this.#o = o;
    this.#clock = clock;
  }

  /** `node <harness> serve` in the agent's environment. */
  protected async command(spec: AgentSpec): Promise<HarnessCommand> {
    const o = this.#o;
    return {
      command: process.execPath,
      args: [o.harnessBin, "serve"],
      env: harnessEnv(spec, o, o.baseEnv ?? process.env),
    };
  }

  async launch(spec: AgentSpec, signal: AbortSignal): Promise<Run> {
    const o = this.#o;
    const { name } = spec;
    const paths = hivePaths(o.root);
    const runDir = paths.agentRunDir(name);
    const logFile = agentLogFile(o.root, name);
    const readyTimeoutMs = o.readyTimeoutMs ?? 30_000;
    const graceMs = o.stopGraceMs ?? 5_000;
    await reapStaleHarness(runDir, o.log);
    if (signal.aborted) throw new HarnessStartError(`start of ${name} cancelled`);

    const cmd = await this.command(spec);
    if (signal.aborted) throw new HarnessStartError(`start of ${name} cancelled`);
    const stamp = new Date(this.#clock.now()).toISOString();
    const proc = spawnService({
      name: "harness",
      ...cmd,
      cwd: paths.agentStateDir(name),
      detached: true,
      lifeline: true,
      logFile,
      logHeader: `--- ${stamp} c0re starting ${name} (${spec.role}) ---`,
      readyTimeoutMs,
    });
    const pid = proc.pid;
    if (pid === undefined) {
      const why = describeExit(await proc.exited);
      throw new HarnessStartError(`could not start the harness of ${name}: ${why}`);
    }
    if (writePidFile(runDir, pid)) void proc.exited.then(() => clearPidFile(runDir, pid));

    const cancel = (): void => void proc.stop(graceMs);
    signal.addEventListener("abort", cancel, { once: true });
    try {
      await proc.ready;
    } catch (e) {
      await proc.stop(0);
      if (signal.aborted) throw new HarnessStartError(`start of ${name} cancelled`);
      const why =
        e instanceof ServiceStartError && e.reason === "exited" && e.exit
          ? `exited before ready (${describeExit(e.exit)})`
          : `no ready line within ${readyTimeoutMs} ms`;
      const tail = await tailFile(logFile, START_ERROR_TAIL_LINES);
      throw new HarnessStartError(`harness of ${name} failed to start: ${why}\n${tail}`);
    } finally {
      signal.removeEventListener("abort", cancel);
    }
    // Ready and stopped at the same moment: the stop wins.
    if (signal.aborted) {
      await proc.stop(graceMs);
      throw new HarnessStartError(`start of ${name} cancelled`);
    }
    return {
      exited: proc.exited.then(describeExit),
      stop: async (ms) => ({ forced: (await proc.stop(ms)).forced }),
    };
  }
}
