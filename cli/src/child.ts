import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";

/** One service process `hive up` started. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The parsed ready line. */
  readonly ready: Record<string, unknown>;
  /** Resolves with "code N" / "signal S" when the process exits. */
  readonly exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
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
  const fd = openSync(o.logFile, "a");
  writeSync(fd, `--- ${new Date().toISOString()} hive up: starting ${o.name} ---\n`);
  let child: ChildProcess;
  try {
    child = spawn(o.command, o.args, {
      env: o.env,
      cwd: o.cwd,
      detached: true,
      stdio: ["ignore", "pipe", fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((res) => {
    child.once("exit", (code, signal) => res(signal ? `signal ${signal}` : `code ${code}`));
    child.once("error", (e) => res(`error ${e.message}`));
  });
  let gone: string | undefined;
  void exited.then((why) => {
    gone = why;
  });

  const out = openSync(o.logFile, "a");
  let ready: Record<string, unknown> | undefined;
  let buf = "";
  child.stdout?.on("data", (d: Buffer) => {
    writeSync(out, d);
    if (ready) return;
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        const v = JSON.parse(line) as Record<string, unknown>;
        if (v.ready === o.name) ready = v;
      } catch {
        // not a protocol line
      }
    }
  });
  child.stdout?.once("close", () => closeSync(out));

  const deadline = Date.now() + o.readyTimeoutMs;
  while (!ready && !gone && Date.now() < deadline) {
    if (o.readyTest?.()) ready = {};
    else await new Promise((r) => setTimeout(r, 25));
  }
  let stopping: Promise<void> | undefined;
  const handle: Child = {
    name: o.name,
    process: child,
    ready: ready ?? {},
    exited,
    stop(graceMs) {
      stopping ??= (async () => {
        if (gone) return;
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
  if (!ready) {
    await handle.stop(2000);
    const why = gone ? `exited (${gone})` : `did not say ready within ${o.readyTimeoutMs} ms`;
    throw new StartError(`${o.name} ${why}; see ${o.logFile}`);
  }
  return handle;
}
