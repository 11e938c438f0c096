import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  type AgentName,
  describeExit,
  groupAlive,
  hivePaths,
  type Logger,
  type ServiceProcess,
  ServiceStartError,
  signalGroup,
  spawnService,
} from "@hyperhive/shared";
import {
  type AgentRuntimeStatus,
  type AgentSpec,
  type ContainerDriver,
  type DriverEvent,
  type DriverEventListener,
  firstLine,
} from "./driver.js";

/** Settings of the process driver; every field but the paths has a default. */
export interface ProcessDriverOptions {
  /** The hive root: state dirs, run dirs and logs live under it. */
  root: string;
  /** Program to run per agent, as `node <harnessBin> serve`. */
  harnessBin: string;
  /** NATS URL handed to every harness. */
  natsUrl: string;
  /** The repo's `prompts/` dir (HIVE_PROMPTS_DIR). */
  promptsDir?: string;
  /** claude binary (HIVE_CLAUDE_BIN). */
  claudeBin?: string;
  /** Default model (HIVE_MODEL). */
  model?: string;
  /** An Anthropic Messages API URL the agents' claude should use instead of Anthropic's. */
  modelUrl?: string;
  /** API key for claude; a placeholder is used when a model URL is given without one. */
  apiKey?: string;
  /** Environment the harness inherits (PATH, HOME, ...); default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long a start may take until the ready line, ms; default 30000. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on stop, ms; default 5000. */
  stopGraceMs?: number;
  /** First restart delay after an unexpected exit, ms; doubles per failure. Default 500. */
  backoffInitialMs?: number;
  /** Longest restart delay, ms; default 30000. */
  backoffMaxMs?: number;
  /** A run at least this long resets the backoff, ms; default 60000. */
  backoffResetMs?: number;
  log: Logger;
  clock?: () => number;
}

/** Variables c0re itself reads; they are not passed on to agents. */
const PRIVATE_ENV = ["C0RE_DB", "HIVE_HARNESS_BIN", "HIVE_MODEL_URL", "HIVE_AGENT_NATS_URL"];

/** A start attempt failed: the harness exited or did not report ready in time. */
export class HarnessStartError extends Error {
  override readonly name = "HarnessStartError";
}

type Tunable =
  | "baseEnv"
  | "readyTimeoutMs"
  | "stopGraceMs"
  | "backoffInitialMs"
  | "backoffMaxMs"
  | "backoffResetMs"
  | "clock";

interface Run {
  proc: ServiceProcess;
  pid: number;
  startedAt: number;
  /** Resolves with how it ended ("code N", "signal S"). */
  exited: Promise<string>;
  /** Set once the exit was handled (so stop and the exit handler do not both act). */
  done: boolean;
}

interface Slot {
  spec: AgentSpec;
  /** Whether c0re wants it up; false makes exits final. */
  wanted: boolean;
  run?: Run;
  /** The run's process while it has not said ready yet. */
  launching?: ServiceProcess;
  restartTimer?: NodeJS.Timeout;
  backoffMs: number;
  /** Serialises start/stop/restart of one agent. */
  chain: Promise<void>;
}

/**
 * Runs each agent's harness as a plain child process (development driver): `node <harness>
 * serve`, detached in its own process group so a stop reaches claude and anything else the
 * harness spawned. Output goes to `<root>/logs/<name>.log`.
 */
export class ProcessDriver implements ContainerDriver {
  readonly kind = "process";
  readonly #o: ProcessDriverOptions & Required<Pick<ProcessDriverOptions, Tunable>>;
  readonly #slots = new Map<AgentName, Slot>();
  readonly #listeners = new Set<DriverEventListener>();
  readonly #paths;

  constructor(opts: ProcessDriverOptions) {
    this.#o = {
      baseEnv: process.env,
      readyTimeoutMs: 30_000,
      stopGraceMs: 5_000,
      backoffInitialMs: 500,
      backoffMaxMs: 30_000,
      backoffResetMs: 60_000,
      clock: Date.now,
      ...opts,
    };
    this.#paths = hivePaths(opts.root);
  }

  onEvent(listener: DriverEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Path of the agent's log file. */
  logFile(name: AgentName): string {
    return join(this.#paths.logsDir, `${name}.log`);
  }

  async create(spec: AgentSpec): Promise<void> {
    mkdirSync(this.#paths.agentStateDir(spec.name), { recursive: true });
    mkdirSync(this.#paths.agentRunDir(spec.name), { recursive: true });
    mkdirSync(this.#paths.logsDir, { recursive: true });
    this.#slot(spec);
  }

  async update(spec: AgentSpec): Promise<void> {
    this.#slot(spec).spec = spec;
  }

  start(spec: AgentSpec): Promise<void> {
    const slot = this.#slot(spec);
    slot.spec = spec;
    return this.#serial(slot, async () => {
      if (slot.run || slot.restartTimer) {
        slot.wanted = true;
        return;
      }
      await this.create(spec);
      slot.wanted = true;
      slot.backoffMs = this.#o.backoffInitialMs;
      try {
        await this.#launch(slot, false);
      } catch (e) {
        // The agent is still wanted: report the failure and keep trying, like after a crash.
        this.#emit({ kind: "exited", agent: spec.name, at: this.#o.clock(), detail: firstLine(e) });
        this.#scheduleRestart(slot);
        throw e;
      }
    });
  }

  stop(name: AgentName): Promise<void> {
    const slot = this.#slots.get(name);
    if (!slot) return Promise.resolve();
    // At once, so a restart already queued behind us sees it and stands down.
    slot.wanted = false;
    // A start waiting for the ready line (up to readyTimeoutMs) ends now, not after it.
    void slot.launching?.stop(this.#o.stopGraceMs);
    return this.#serial(slot, () => this.#halt(slot));
  }

  async destroy(name: AgentName): Promise<void> {
    await this.stop(name);
    rmSync(this.#paths.agentRunDir(name), { recursive: true, force: true });
    rmSync(this.logFile(name), { force: true });
    this.#slots.delete(name);
  }

  status(name: AgentName): AgentRuntimeStatus {
    const slot = this.#slots.get(name);
    if (!slot?.run) return { running: false, restartPending: slot?.restartTimer !== undefined };
    return {
      running: true,
      pid: slot.run.pid,
      since: slot.run.startedAt,
      restartPending: false,
    };
  }

  async logs(name: AgentName, lines = 200): Promise<string> {
    return tailFile(this.logFile(name), lines);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#slots.keys()].map((n) => this.stop(n)));
  }

  #pidFile(name: AgentName): string {
    return join(this.#paths.agentRunDir(name), "harness.pid");
  }

  /**
   * Kills a harness group left over by a c0re that died without stopping it (its pid file is
   * still there and the process is still this agent's harness), so an agent never runs twice.
   */
  async #reapStale(name: AgentName): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.#pidFile(name), "utf8").trim());
    } catch {
      return;
    }
    if (Number.isInteger(pid) && pid > 1 && this.#isHarnessOf(pid, name)) {
      this.#o.log.warn({ agent: name, pid }, "killing a harness left over by an earlier c0re");
      signalGroup(pid, "SIGKILL");
      const deadline = Date.now() + 2000;
      while (groupAlive(pid) && Date.now() < deadline) await delay(20);
    }
    rmSync(this.#pidFile(name), { force: true });
  }

  /**
   * Whether `pid` is (still) the harness of this agent of this hive, leading its own group. The
   * pid may have been reused since the file was written, by anything, including another
   * agent's harness or another hive's: the command line alone does not tell them apart.
   */
  #isHarnessOf(pid: number, name: AgentName): boolean {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const pgrp = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()?.split(" ")[2];
      return (
        cmd.includes(`${this.#o.harnessBin} serve`) &&
        env.includes(`HIVE_RUN_DIR=${this.#paths.agentRunDir(name)}`) &&
        pgrp === String(pid)
      );
    } catch {
      // gone, or not ours to read (no /proc, another user): nothing to reap
      return false;
    }
  }

  #slot(spec: AgentSpec): Slot {
    let slot = this.#slots.get(spec.name);
    if (!slot) {
      slot = {
        spec,
        wanted: false,
        backoffMs: this.#o.backoffInitialMs,
        chain: Promise.resolve(),
      };
      this.#slots.set(spec.name, slot);
    }
    return slot;
  }

  #serial(slot: Slot, fn: () => Promise<void>): Promise<void> {
    const next = slot.chain.then(fn, fn);
    slot.chain = next.catch(() => {});
    return next;
  }

  #emit(event: DriverEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        this.#o.log.error({ err: e, event }, "driver event listener failed");
      }
    }
  }

  #env(spec: AgentSpec): NodeJS.ProcessEnv {
    const o = this.#o;
    const env: NodeJS.ProcessEnv = { ...o.baseEnv };
    for (const k of PRIVATE_ENV) delete env[k];
    Object.assign(env, {
      HIVE_AGENT: spec.name,
      HIVE_ROLE: spec.role,
      NATS_URL: o.natsUrl,
      HIVE_ROOT: o.root,
      HIVE_STATE_DIR: this.#paths.agentStateDir(spec.name),
      HIVE_RUN_DIR: this.#paths.agentRunDir(spec.name),
    });
    if (o.promptsDir) env.HIVE_PROMPTS_DIR = o.promptsDir;
    if (o.claudeBin) env.HIVE_CLAUDE_BIN = o.claudeBin;
    if (o.model) env.HIVE_MODEL = o.model;
    if (o.apiKey) env.ANTHROPIC_API_KEY = o.apiKey;
    if (o.modelUrl) {
      env.ANTHROPIC_BASE_URL = o.modelUrl;
      // claude refuses to start without some key; a local model server ignores it.
      env.ANTHROPIC_API_KEY ||= "hyperhive-local";
      env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1";
    }
    return env;
  }

  /** Spawns the harness and waits for its ready line; on failure nothing is left running. */
  async #launch(slot: Slot, automatic: boolean): Promise<void> {
    const { name } = slot.spec;
    await this.#reapStale(name);
    const stamp = new Date(this.#o.clock()).toISOString();
    const proc = spawnService({
      name: "harness",
      command: process.execPath,
      args: [this.#o.harnessBin, "serve"],
      cwd: this.#paths.agentStateDir(name),
      env: this.#env(slot.spec),
      detached: true,
      logFile: this.logFile(name),
      logHeader: `--- ${stamp} c0re starting ${name} (${slot.spec.role}) ---`,
      readyTimeoutMs: this.#o.readyTimeoutMs,
    });
    const exited = proc.exited.then(describeExit);
    const pid = proc.pid;
    if (pid === undefined) {
      const why = await exited;
      throw new HarnessStartError(`could not start the harness of ${name}: ${why}`);
    }
    const run: Run = { proc, pid, startedAt: this.#o.clock(), exited, done: false };
    slot.run = run;
    writeFileSync(this.#pidFile(name), `${pid}\n`);
    void exited.then(() => rmSync(this.#pidFile(name), { force: true }));

    slot.launching = proc;
    try {
      await proc.ready;
    } catch (e) {
      run.done = true;
      slot.run = undefined;
      await run.proc.stop(0);
      if (!slot.wanted) throw new HarnessStartError(`start of ${name} cancelled: stopped`);
      const why =
        e instanceof ServiceStartError && e.reason === "exited" && e.exit
          ? `exited before ready (${describeExit(e.exit)})`
          : `no ready line within ${this.#o.readyTimeoutMs} ms`;
      const tail = await tailFile(this.logFile(name), 15);
      throw new HarnessStartError(`harness of ${name} failed to start: ${why}\n${tail}`);
    } finally {
      slot.launching = undefined;
    }
    this.#o.log.info({ agent: name, pid, automatic }, "agent started");
    this.#emit({ kind: "started", agent: name, at: this.#o.clock(), automatic });
    void exited.then((why) => this.#onExit(slot, run, why));
  }

  /** An exit nobody asked for: clean up the group, report, and schedule a restart. */
  async #onExit(slot: Slot, run: Run, why: string): Promise<void> {
    if (run.done) return;
    run.done = true;
    if (slot.run === run) slot.run = undefined;
    await run.proc.stop(0);
    const { name } = slot.spec;
    this.#o.log.warn({ agent: name, pid: run.pid, why }, "agent exited unexpectedly");
    this.#emit({ kind: "exited", agent: name, at: this.#o.clock(), detail: why });
    if (this.#o.clock() - run.startedAt >= this.#o.backoffResetMs) {
      slot.backoffMs = this.#o.backoffInitialMs;
    }
    this.#scheduleRestart(slot);
  }

  #scheduleRestart(slot: Slot): void {
    if (!slot.wanted) return;
    const delayMs = slot.backoffMs;
    slot.backoffMs = Math.min(slot.backoffMs * 2, this.#o.backoffMaxMs);
    const { name } = slot.spec;
    this.#emit({ kind: "restarting", agent: name, at: this.#o.clock(), delayMs });
    slot.restartTimer = setTimeout(() => {
      void this.#serial(slot, async () => {
        slot.restartTimer = undefined;
        if (!slot.wanted || slot.run) return;
        try {
          await this.#launch(slot, true);
        } catch (e) {
          this.#o.log.warn({ agent: name, err: e }, "restart failed");
          this.#emit({
            kind: "exited",
            agent: name,
            at: this.#o.clock(),
            detail: firstLine(e),
          });
          this.#scheduleRestart(slot);
        }
      });
    }, delayMs);
  }

  async #halt(slot: Slot): Promise<void> {
    slot.wanted = false;
    if (slot.restartTimer) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    const run = slot.run;
    if (!run) return;
    run.done = true;
    slot.run = undefined;
    // SIGTERM to the whole group, SIGKILL after the grace; returns once nothing of it is left.
    const { forced } = await run.proc.stop(this.#o.stopGraceMs);
    if (forced) this.#o.log.warn({ agent: slot.spec.name }, "harness ignored SIGTERM; killed");
    this.#o.log.info({ agent: slot.spec.name }, "agent stopped");
    this.#emit({ kind: "stopped", agent: slot.spec.name, at: this.#o.clock() });
  }
}

/** The last `lines` lines of a file (reads at most the last 256 KiB); "" if it does not exist. */
export async function tailFile(path: string, lines: number): Promise<string> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return "";
  }
  const len = Math.min(size, 256 * 1024);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const all = buf.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines).join("\n");
  } finally {
    await fh.close();
  }
}
