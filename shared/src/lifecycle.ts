import type { Logger } from "./log.js";

/** Where a service run stands; moves forward only. */
export const ServiceState = {
  Starting: "starting",
  Running: "running",
  Stopping: "stopping",
  Stopped: "stopped",
  Failed: "failed",
} as const;
export type ServiceState = (typeof ServiceState)[keyof typeof ServiceState];

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
  readonly state: ServiceState;
  /** Same path as a SIGTERM: graceful stop, then `process.exit(0|1)`. */
  stop(reason: string): void;
}

/** A no-op listener: see `runService` for why one stays installed after the first signal. */
const ignore = (): void => {};

/**
 * Runs a service until SIGTERM/SIGINT: installs the signal handlers once (before start, so a
 * signal during a slow start stops it too), starts, prints the ready line on stdout and returns.
 * On the first signal: state `stopping`, a force-exit timer (`forceExitMs`, exit 1), the deferred
 * cleanups newest first (each one runs even if an earlier one failed), then `process.exit(0)`, or
 * 1 if a cleanup failed. Rejects (nothing left running, handlers removed) if start fails.
 *
 * Our handlers come off on the first signal, but a no-op listener stays on SIGTERM and SIGINT:
 * execa's exit hook (signal-exit) re-raises a signal when it finds itself the only listener left,
 * which would kill the process in the middle of its orderly stop. A repeated signal is therefore
 * ignored; the force-exit timer bounds the stop.
 */
export async function runService(o: RunServiceOptions): Promise<ServiceRun> {
  let state: ServiceState = ServiceState.Starting;
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
    if (state === ServiceState.Stopping || state === ServiceState.Stopped) return;
    state = ServiceState.Stopping;
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    process.on("SIGTERM", ignore);
    process.on("SIGINT", ignore);
    o.log.info({ reason }, "stopping");
    setTimeout(() => {
      o.log.error({ afterMs: o.forceExitMs }, "graceful stop took too long; exiting");
      process.exit(1);
    }, o.forceExitMs).unref();
    void unwind().then((clean) => {
      state = clean ? ServiceState.Stopped : ServiceState.Failed;
      process.exit(clean ? 0 : 1);
    });
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  const defer: Defer = (fn) => {
    // A signal during start already unwound what was there: undo late arrivals at once.
    if (state === ServiceState.Stopping) void Promise.resolve().then(fn).catch(ignore);
    else cleanups.push(fn);
  };

  let details: Record<string, unknown> | undefined;
  try {
    details = await o.start(defer);
  } catch (e) {
    if (state === ServiceState.Starting) {
      state = ServiceState.Failed;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
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
  if (state !== ServiceState.Starting) return run;
  state = ServiceState.Running;
  process.stdout.write(`${JSON.stringify({ ready: o.name, ...details })}\n`);
  return run;
}
