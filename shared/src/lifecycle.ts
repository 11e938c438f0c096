import { watchLifeline } from "./lifeline.js";
import type { Logger } from "./log.js";

/**
 * Where a component is in its life: the one vocabulary of every service process (`runService`)
 * and of the long-lived parts inside them (broker, c0re, turn loop). It only moves forward:
 * initialized → starting → running → stopping → stopped, or failed when a start or stop fails.
 */
export const LifecycleState = {
  Initialized: "initialized",
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
  Failed: "failed",
} as const;
export type LifecycleState = (typeof LifecycleState)[keyof typeof LifecycleState];

/** A start asked of a component that is past starting (stopping, stopped or failed). */
export class IllegalStateError extends Error {
  override readonly name = "IllegalStateError";
  constructor(
    readonly component: string,
    readonly state: LifecycleState,
    readonly action: "start",
  ) {
    super(`${component} cannot ${action} when ${state}`);
  }
}

/**
 * The life of one component, as an explicit state with guarded transitions (after Temporal's
 * worker): `start` runs once (a repeat returns the same promise), `stop` runs once, after any
 * start in flight, and may be called in any state (a repeat returns the same promise); a start
 * after stop is refused with {@link IllegalStateError}. `signal` aborts when stopping begins, so
 * long waits inside the component end at once.
 */
export class Lifecycle {
  #state: LifecycleState = LifecycleState.Initialized;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(readonly component: string) {}

  get state(): LifecycleState {
    return this.#state;
  }

  /** True only while running (not starting, not stopping). */
  get running(): boolean {
    return this.#state === LifecycleState.Running;
  }

  /** Aborted as soon as {@link stop} is called. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  start(fn: () => Promise<void> | void): Promise<void> {
    const s = this.#state;
    if (this.#stopping || s === LifecycleState.Failed || s === LifecycleState.Stopped) {
      return Promise.reject(new IllegalStateError(this.component, s, "start"));
    }
    if (this.#starting) return this.#starting;
    this.#state = LifecycleState.Starting;
    this.#starting = (async () => {
      try {
        await fn();
      } catch (e) {
        if (this.#state === LifecycleState.Starting) this.#state = LifecycleState.Failed;
        throw e;
      }
      if (this.#state === LifecycleState.Starting) this.#state = LifecycleState.Running;
    })();
    return this.#starting;
  }

  stop(fn: () => Promise<void> | void): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort();
      await this.#starting?.catch(() => {});
      this.#state = LifecycleState.Stopping;
      try {
        await fn();
      } catch (e) {
        this.#state = LifecycleState.Failed;
        throw e;
      }
      this.#state = LifecycleState.Stopped;
    })();
    return this.#stopping;
  }
}

/** Registers a cleanup; cleanups run in reverse order of registration when the service stops. */
export type Defer = (stop: () => unknown) => void;

/** What `runService` needs from a service's composition root. */
export interface RunServiceOptions {
  /** The service name: the ready line is `{"ready":"<name>", ...details}`. */
  name: string;
  log: Logger;
  /** After the first signal, exit 1 if the graceful stop has not finished within this many ms. */
  forceExitMs: number;
  /**
   * Starts the service. Every resource is registered with `defer` right after it is acquired,
   * so stop (and a start that fails half way) undoes exactly what was done, newest first.
   * Resolves with the extra fields of the ready line.
   */
  start(defer: Defer): Promise<Record<string, unknown> | undefined>;
}

/** A running service, for callers that want to look at or end it without a signal. */
export interface ServiceRun {
  readonly state: LifecycleState;
  /** Same path as a SIGTERM: graceful stop, then `process.exit(0|1)`. */
  stop(reason: string): void;
}

/** A no-op listener: see `runService` for why one stays installed after the first signal. */
const ignore = (): void => {};

/** Signals that stop a service gracefully. SIGHUP too: a closed terminal must not kill it mid-write. */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Runs a service until SIGTERM/SIGINT/SIGHUP, or until its lifeline ends (its parent is gone;
 * see `lifeline.ts`): installs the signal handlers once (before start, so a signal during a slow
 * start stops it too), starts, prints the ready line on stdout and returns.
 * On the first signal: state `stopping`, a force-exit timer (`forceExitMs`, exit 1), the deferred
 * cleanups newest first (each one runs even if an earlier one failed), then `process.exit(0)`, or
 * 1 if a cleanup failed. Rejects (nothing left running, handlers removed) if start fails.
 *
 * Our handlers come off on the first signal, but a no-op listener stays on each of them:
 * execa's exit hook (signal-exit) re-raises a signal when it finds itself the only listener left,
 * which would kill the process in the middle of its orderly stop. A repeated signal is therefore
 * ignored; the force-exit timer bounds the stop.
 */
export async function runService(o: RunServiceOptions): Promise<ServiceRun> {
  let state: LifecycleState = LifecycleState.Starting;
  const cleanups: (() => unknown)[] = [];
  let stopping: Promise<boolean> | undefined;

  /** Runs the cleanups newest first; resolves with whether all of them succeeded. */
  const unwind = (): Promise<boolean> => {
    stopping ??= (async () => {
      let clean = true;
      for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
        try {
          await fn();
        } catch (e) {
          clean = false;
          o.log.error({ err: e }, "stop step failed");
        }
      }
      return clean;
    })();
    return stopping;
  };

  const stop = (reason: string): void => {
    if (state === LifecycleState.Stopping || state === LifecycleState.Stopped) return;
    state = LifecycleState.Stopping;
    unwatch();
    for (const sig of STOP_SIGNALS) {
      process.off(sig, onSignal);
      process.on(sig, ignore);
    }
    o.log.info({ reason }, "stopping");
    setTimeout(() => {
      o.log.error({ afterMs: o.forceExitMs }, "graceful stop took too long; exiting");
      process.exit(1);
    }, o.forceExitMs).unref();
    void unwind().then((clean) => {
      state = clean ? LifecycleState.Stopped : LifecycleState.Failed;
      process.exit(clean ? 0 : 1);
    });
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  const unwatch = watchLifeline(() => stop("lifeline: parent process gone"));

  const defer: Defer = (fn) => {
    // A signal during start already unwound what was there: undo late arrivals at once.
    if (state === LifecycleState.Stopping) void Promise.resolve().then(fn).catch(ignore);
    else cleanups.push(fn);
  };

  let details: Record<string, unknown> | undefined;
  try {
    details = await o.start(defer);
  } catch (e) {
    if (state === LifecycleState.Starting) {
      state = LifecycleState.Failed;
      unwatch();
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      await unwind();
      throw e;
    }
    // Stopping already: the failure is a consequence of the stop (e.g. a closed db); ignore it.
  }
  const run: ServiceRun = {
    get state() {
      return state;
    },
    stop,
  };
  if (state !== LifecycleState.Starting) return run;
  state = LifecycleState.Running;
  process.stdout.write(`${JSON.stringify({ ready: o.name, ...details })}\n`);
  return run;
}
