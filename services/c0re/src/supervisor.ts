import {
  type AgentName,
  type Cancel,
  type Clock,
  type Logger,
  mayRetry,
  type RetryPolicy,
  retryDelay,
  retryPolicy,
} from "@hyperhive/shared";
import {
  type AgentRuntimeStatus,
  type AgentSpec,
  type ContainerDriver,
  type DriverEvent,
  type DriverEventListener,
  firstLine,
  HarnessStartError,
} from "./driver.js";

/** One run of an agent's harness, from its ready line on, as a launcher hands it over. */
export interface Run {
  /** Resolves once the run has ended, with how ("code 1", "signal SIGKILL"). */
  readonly exited: Promise<string>;
  /**
   * SIGTERM (or the technology's equivalent), SIGKILL after `graceMs` (0: at once); resolves
   * once nothing of the run is left, with whether the kill was needed. Safe to call twice.
   */
  stop(graceMs: number): Promise<{ forced: boolean }>;
}

/**
 * The one thing a driver technology supplies to the {@link Supervisor}: how to bring up one run
 * of an agent's harness. Everything else (serialising, restarts, backoff, events) is shared.
 */
export interface Launcher {
  /**
   * Starts the agent's harness and resolves once it reports ready. Rejects with a
   * {@link HarnessStartError}, leaving nothing running, if it exits first, misses its deadline,
   * or `signal` aborts (a stop) before it is ready.
   */
  launch(spec: AgentSpec, signal: AbortSignal): Promise<Run>;
}

/** Restarts after an unexpected exit or a failed start: 0.5 s, doubling up to 30 s, forever. */
export const DEFAULT_RESTART_POLICY = retryPolicy({ initialMs: 500, factor: 2, maxMs: 30_000 });

export interface SupervisorOptions {
  launcher: Launcher;
  clock: Clock;
  log: Logger;
  /**
   * Pause before each restart, counted over consecutive failures (a failed start or a run
   * shorter than `resetAfterMs`); with `maxAttempts` it gives up after that many in a row.
   * Default {@link DEFAULT_RESTART_POLICY}.
   */
  restartPolicy?: RetryPolicy;
  /** A run at least this long was healthy: the next restart waits the first delay again. Default 60000. */
  resetAfterMs?: number;
  /** Time between SIGTERM and SIGKILL on stop, ms; default 5000. */
  stopGraceMs?: number;
}

interface Running {
  run: Run;
  startedAt: number;
  /** Set once its end was handled (so a stop and the exit handler do not both act on it). */
  done: boolean;
}

interface Slot {
  spec: AgentSpec;
  /** Whether c0re wants it up; false makes exits final and cancels restarts. */
  wanted: boolean;
  running?: Running;
  /** Aborts the launch waiting for its ready line. */
  launching?: AbortController;
  /** Cancels the scheduled restart; set while one is pending. */
  cancelRestart?: Cancel;
  /** Failures in a row since the last healthy run: which backoff step comes next. */
  failures: number;
  /** Serialises start, stop and restarts of one agent. */
  chain: Promise<void>;
}

/**
 * Keeps agents up, whatever runs them: one slot per agent, its starts and stops serialised, an
 * unexpected exit or failed start retried after a backoff on the {@link Clock}, and a fact
 * ({@link DriverEvent}) reported for each step. A driver is this plus a {@link Launcher}.
 */
export class Supervisor implements Omit<ContainerDriver, "kind" | "create" | "adopt"> {
  readonly #launcher: Launcher;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #policy: RetryPolicy;
  readonly #resetAfterMs: number;
  readonly #stopGraceMs: number;
  readonly #slots = new Map<AgentName, Slot>();
  readonly #listeners = new Set<DriverEventListener>();

  constructor(o: SupervisorOptions) {
    this.#launcher = o.launcher;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#policy = retryPolicy(o.restartPolicy ?? DEFAULT_RESTART_POLICY);
    this.#resetAfterMs = o.resetAfterMs ?? 60_000;
    this.#stopGraceMs = o.stopGraceMs ?? 5_000;
  }

  /** See {@link ContainerDriver.onEvent}. */
  onEvent(listener: DriverEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** See {@link ContainerDriver.start}. */
  start(spec: AgentSpec): Promise<void> {
    const slot = this.#slot(spec);
    slot.spec = spec;
    return this.#serial(slot, async () => {
      slot.wanted = true;
      if (slot.running || slot.cancelRestart) return;
      slot.failures = 0;
      try {
        await this.#launch(slot, false);
      } catch (e) {
        // Still wanted (unless a stop cancelled it): reported, and retried like a crash.
        this.#failed(slot, e);
        throw e;
      }
    });
  }

  /** See {@link ContainerDriver.stop}. */
  stop(name: AgentName): Promise<void> {
    const slot = this.#slots.get(name);
    if (!slot) return Promise.resolve();
    // At once, not in turn: a restart queued behind us stands down, and a start waiting for its
    // ready line (up to the launcher's deadline) ends now instead of after it.
    slot.wanted = false;
    this.#cancelRestart(slot);
    slot.launching?.abort();
    return this.#serial(slot, () => this.#halt(slot));
  }

  /** See {@link ContainerDriver.status}. */
  status(name: AgentName): AgentRuntimeStatus {
    const slot = this.#slots.get(name);
    return {
      // A launch counts: its harness may already be publishing states before its ready line.
      running: slot?.running !== undefined || slot?.launching !== undefined,
      restartPending: slot?.cancelRestart !== undefined,
    };
  }

  /** See {@link ContainerDriver.stopAll}. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#slots.keys()].map((n) => this.stop(n)));
  }

  #slot(spec: AgentSpec): Slot {
    let slot = this.#slots.get(spec.name);
    if (!slot) {
      slot = { spec, wanted: false, failures: 0, chain: Promise.resolve() };
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
        this.#log.error({ err: e, event }, "driver event listener failed");
      }
    }
  }

  async #launch(slot: Slot, automatic: boolean): Promise<void> {
    const { name } = slot.spec;
    const ac = new AbortController();
    slot.launching = ac;
    let run: Run;
    try {
      run = await this.#launcher.launch(slot.spec, ac.signal);
    } catch (e) {
      if (!slot.wanted) throw new HarnessStartError(`start of ${name} cancelled: stopped`);
      throw e;
    } finally {
      slot.launching = undefined;
    }
    const running: Running = { run, startedAt: this.#clock.now(), done: false };
    slot.running = running;
    this.#log.info({ agent: name, automatic }, "agent started");
    this.#emit({ kind: "started", agent: name, at: running.startedAt, automatic });
    run.exited
      .then((why) => this.#onExit(slot, running, why))
      .catch((e: unknown) => this.#log.error({ agent: name, err: e }, "handling an exit failed"));
  }

  /**
   * A start attempt failed: say so and, if the agent is still wanted, try again later. One a stop
   * ended is no failure: the agent is simply stopped.
   */
  #failed(slot: Slot, e: unknown): void {
    const { name } = slot.spec;
    const at = this.#clock.now();
    if (!slot.wanted) {
      this.#emit({ kind: "stopped", agent: name, at });
      return;
    }
    this.#emit({ kind: "exited", agent: name, at, detail: firstLine(e) });
    this.#scheduleRestart(slot);
  }

  /** An exit nobody asked for: clean up what is left of the run, report, and schedule a restart. */
  async #onExit(slot: Slot, running: Running, why: string): Promise<void> {
    if (running.done) return;
    running.done = true;
    if (slot.running === running) slot.running = undefined;
    // The harness is gone, but claude or other children of it may not be.
    await running.run.stop(0);
    const { name } = slot.spec;
    const now = this.#clock.now();
    this.#log.warn({ agent: name, why }, "agent exited unexpectedly");
    this.#emit({ kind: "exited", agent: name, at: now, detail: why });
    if (now - running.startedAt >= this.#resetAfterMs) slot.failures = 0;
    this.#scheduleRestart(slot);
  }

  #scheduleRestart(slot: Slot): void {
    if (!slot.wanted) return;
    const { name } = slot.spec;
    slot.failures += 1;
    if (!mayRetry(this.#policy, slot.failures)) {
      this.#log.error({ agent: name, failures: slot.failures }, "agent keeps failing; giving up");
      return;
    }
    const delayMs = retryDelay(this.#policy, slot.failures);
    this.#emit({ kind: "restarting", agent: name, at: this.#clock.now(), delayMs });
    const cancel = this.#clock.schedule(delayMs, () => {
      void this.#serial(slot, async () => {
        // Pending until the attempt begins, so a start asked meanwhile is a conflict.
        if (slot.cancelRestart === cancel) slot.cancelRestart = undefined;
        if (!slot.wanted || slot.running) return;
        try {
          await this.#launch(slot, true);
        } catch (e) {
          this.#log.warn({ agent: name, err: e }, "restart failed");
          this.#failed(slot, e);
        }
      });
    });
    slot.cancelRestart = cancel;
  }

  #cancelRestart(slot: Slot): void {
    slot.cancelRestart?.();
    slot.cancelRestart = undefined;
  }

  async #halt(slot: Slot): Promise<void> {
    slot.wanted = false;
    this.#cancelRestart(slot);
    const running = slot.running;
    if (!running) return;
    running.done = true;
    slot.running = undefined;
    const { name } = slot.spec;
    const { forced } = await running.run.stop(this.#stopGraceMs);
    if (forced) this.#log.warn({ agent: name }, "harness ignored SIGTERM; killed");
    this.#log.info({ agent: name }, "agent stopped");
    this.#emit({ kind: "stopped", agent: name, at: this.#clock.now() });
  }
}
