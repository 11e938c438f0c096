import type { ChildProcess } from "node:child_process";
import { describeExit, ServiceStartError, startService } from "@hyperhive/shared";

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
}

/** A service did not come up; carries the tail of its log. */
export class StartError extends Error {
  override readonly name = "StartError";
}

/**
 * Starts a service detached (its own process group, so a terminal Ctrl-C reaches only `hive`,
 * which then stops services in order) and waits for its ready line.
 */
export async function spawnChild(o: SpawnOptions): Promise<Child> {
  try {
    const p = await startService({
      ...o,
      detached: true,
      logHeader: `--- ${new Date().toISOString()} hive up: starting ${o.name} ---`,
    });
    const exited = p.exited.then(describeExit);
    return {
      name: o.name,
      process: p.child,
      ready: p.readyLine,
      exited,
      async stop(graceMs) {
        await p.stop(graceMs);
      },
    };
  } catch (e) {
    if (!(e instanceof ServiceStartError)) throw e;
    const why =
      e.reason === "exited" && e.exit
        ? `exited (${describeExit(e.exit)})`
        : `did not say ready within ${o.readyTimeoutMs} ms`;
    throw new StartError(`${o.name} ${why}; see ${o.logFile}`);
  }
}
