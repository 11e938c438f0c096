import type { ChildProcess } from "node:child_process";
import { describeExit, ServiceStartError, spawnService } from "@hyperhive/shared";

/** One service process `hive up` started. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The parsed ready line. */
  readonly ready: Record<string, unknown>;
  /** Resolves with "code N" / "signal S" when the process exits. */
  readonly exited: Promise<string>;
  /** SIGTERM to its group, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs: number): Promise<void>;
}

export interface SpawnOptions {
  /** Service name; the ready line must be `{"ready":"<name>",...}` (unless `readyTest`). */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  readyTimeoutMs: number;
  /** Overrides the ready check (nats-server has no ready line). */
  readyTest?: () => boolean;
  cwd?: string;
  /** SIGTERM → SIGKILL grace when a failed or aborted start is stopped. */
  stopGraceMs: number;
  /** Aborting it stops the service and makes the start reject (the hive is stopping). */
  signal?: AbortSignal;
}

/** A service did not come up; carries the tail of its log. */
export class StartError extends Error {
  override readonly name = "StartError";
}

/**
 * Starts a service detached (its own process group, so a terminal Ctrl-C reaches only `hive`,
 * which then stops services in order) and waits for its ready line. If the start fails or
 * `signal` aborts it, the service is stopped (SIGTERM, SIGKILL after `stopGraceMs`) before this
 * rejects, so nothing is left running.
 */
export async function spawnChild(o: SpawnOptions): Promise<Child> {
  const { signal, stopGraceMs, ...spawn } = o;
  if (signal?.aborted) throw new StartError(`${o.name} not started: the hive is stopping`);
  const p = spawnService({
    ...spawn,
    detached: true,
    logHeader: `--- ${new Date().toISOString()} hive up: starting ${o.name} ---`,
  });
  // Stopping makes `ready` reject, so an abort ends the wait at once.
  const abort = () => void p.stop(stopGraceMs);
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const ready = await p.ready;
    return {
      name: o.name,
      process: p.child,
      ready,
      exited: p.exited.then(describeExit),
      async stop(graceMs) {
        await p.stop(graceMs);
      },
    };
  } catch (e) {
    await p.stop(stopGraceMs);
    if (signal?.aborted)
      throw new StartError(`${o.name} stopped while starting: the hive is stopping`);
    if (!(e instanceof ServiceStartError)) throw e;
    const why =
      e.reason === "exited" && e.exit
        ? `exited (${describeExit(e.exit)})`
        : `did not say ready within ${o.readyTimeoutMs} ms`;
    throw new StartError(`${o.name} ${why}; see ${o.logFile}`);
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
