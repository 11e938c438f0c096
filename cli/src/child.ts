import {
  describeExit,
  type ExitInfo,
  type ReadyLine,
  ServiceStartError,
  spawnService,
} from "@hyperhive/shared";
import type { Launch } from "./supervisor.js";

/** One run of a service `hive up` started, ready. */
export interface Child extends Launch {
  readonly name: string;
  readonly pid: number;
  /** The parsed ready line. */
  readonly ready: ReadyLine;
}

export interface SpawnOptions {
  /** Service name; its ready line must be `{"ready":"<name>",...}`. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  readyTimeoutMs: number;
  /** SIGTERM → SIGKILL grace, for `stop()` and for a failed or aborted start. */
  stopGraceMs: number;
  /** Aborting it stops the service and makes the start reject (the hive is stopping). */
  signal: AbortSignal;
}

/** A service did not come up. */
export class StartError extends Error {
  override readonly name = "StartError";
  /** How it exited before its ready line, if it did. */
  readonly exit: ExitInfo | undefined;
  /** No retry can fix it (see `isPermanent`). */
  readonly permanent: boolean;
  constructor(message: string, o: { exit?: ExitInfo | undefined; permanent?: boolean } = {}) {
    super(message);
    this.exit = o.exit;
    this.permanent = o.permanent ?? false;
  }
}

/**
 * Starts a service the way `hive up` runs them all: in its own process group (a terminal's
 * Ctrl-C reaches only `hive`, which stops services in order, and a stop reaches everything the
 * service spawned) and with a lifeline (`spawnService`'s `lifeline`: the service stops by itself
 * when this process dies, even by SIGKILL). Waits for the ready line; if the start fails or
 * `signal` aborts it, the service is stopped before this rejects, so nothing is left running.
 */
export async function spawnChild(o: SpawnOptions): Promise<Child> {
  const { signal, stopGraceMs, ...spawn } = o;
  if (signal.aborted) throw new StartError(`${o.name} not started: the hive is stopping`);
  const p = spawnService({
    ...spawn,
    detached: true,
    lifeline: true,
    logHeader: `--- ${new Date().toISOString()} hive up: starting ${o.name} ---`,
  });
  // Stopping makes `ready` reject, so an abort ends the wait at once.
  const abort = () => void p.stop(stopGraceMs);
  signal.addEventListener("abort", abort, { once: true });
  try {
    const ready = await p.ready;
    const pid = p.pid;
    if (pid === undefined) throw new StartError(`${o.name} has no pid`);
    return {
      name: o.name,
      pid,
      pids: [pid],
      ready,
      exited: p.exited,
      async stop() {
        await p.stop(stopGraceMs);
      },
    };
  } catch (e) {
    await p.stop(stopGraceMs);
    if (signal.aborted) {
      throw new StartError(`${o.name} stopped while starting: the hive is stopping`);
    }
    if (!(e instanceof ServiceStartError)) throw e;
    const why =
      e.reason === "exited" && e.exit
        ? `exited (${describeExit(e.exit)})`
        : `did not say ready within ${o.readyTimeoutMs} ms`;
    throw new StartError(`${o.name} ${why}; see ${o.logFile}`, { exit: e.exit });
  } finally {
    signal.removeEventListener("abort", abort);
  }
}
