import { createInterface } from "node:readline";
import { execa } from "execa";

/** One claude invocation. */
export interface ClaudeInvocation {
  bin: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Piped to stdin, then stdin is closed. */
  stdin: string;
  onStdoutLine(line: string): void;
  onStderrLine(line: string): void;
}

export interface ClaudeExit {
  exitCode: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (e.g. binary missing). */
  spawnError: string | null;
}

/** A running claude process. */
export interface ClaudeRun {
  /** Settles when the process has exited and its output is fully read; never rejects. */
  readonly done: Promise<ClaudeExit>;
  /** Terminates it (SIGTERM, SIGKILL after a grace). */
  kill(): void;
}

/** What claude and everything it runs (its Bash tool) create files with: others may read. */
const AGENT_UMASK = 0o022;

function spawnClaude(inv: ClaudeInvocation) {
  return execa(inv.bin, inv.args, {
    cwd: inv.cwd,
    env: inv.env,
    extendEnv: false,
    input: inv.stdin,
    reject: false,
    buffer: false,
    stdout: "pipe",
    stderr: "pipe",
    forceKillAfterDelay: 3000,
  });
}

/** Starts a claude process; the turn loop takes this as a dependency. */
export type RunClaude = (inv: ClaudeInvocation) => ClaudeRun;

/** The real thing, via execa. claude stays in the harness's process group: if the container dies, so does it. */
export const runClaude: RunClaude = (inv) => {
  // The agent's own files are readable by others unless it makes them private (chmod 600): the
  // operator's files tab shows only those, and the sandbox, not the umask, keeps other agents
  // out. A umask is per process: set for the fork (synchronous inside execa), then put back.
  const umask = process.umask(AGENT_UMASK);
  let sub: ReturnType<typeof spawnClaude>;
  try {
    sub = spawnClaude(inv);
  } finally {
    process.umask(umask);
  }
  const pump = (stream: NodeJS.ReadableStream | null, onLine: (l: string) => void) =>
    new Promise<void>((resolve) => {
      if (!stream) return resolve();
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on("line", onLine);
      rl.once("close", () => resolve());
    });
  const out = pump(sub.stdout, inv.onStdoutLine);
  const err = pump(sub.stderr, inv.onStderrLine);
  const done = (async (): Promise<ClaudeExit> => {
    const r = await sub;
    await Promise.all([out, err]);
    const spawnError = r.failed && r.exitCode === undefined && !r.signal ? r.message : null;
    return {
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      spawnError: spawnError ?? null,
    };
  })();
  return {
    done,
    kill() {
      sub.kill("SIGTERM");
    },
  };
};
