import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Repo root, from dist/test/ of this package. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const HARNESS_MAIN = join(REPO, "services/harness/dist/src/main.js");
export const BROKER_MAIN = join(REPO, "services/broker/dist/src/main.js");
export const MODEL_MAIN = join(REPO, "services/model-server/dist/src/main.js");
export const CLAUDE_BIN = join(REPO, "node_modules/.bin/claude");

/** A child process that printed its ready line. */
export interface Proc {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  /** Everything it wrote on stderr (last 200 kB). */
  stderr(): string;
  /** Resolves with the exit code/signal once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (SIGKILL after 5 s); waits for exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Own process group (so the test can kill the whole group like a container dying). */
  detached?: boolean;
  timeoutMs?: number;
}

/** Spawns `node <main> ...args` and waits for its `{"ready":...}` stdout line. */
export async function startNode(
  main: string,
  args: string[],
  opts: StartOptions = {},
): Promise<Proc> {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
  });
  let err = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    err = (err + d).slice(-200_000);
    if (process.env.HIVE_TEST_VERBOSE) process.stderr.write(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once("exit", (code, signal) => res({ code, signal })),
  );
  const ready = await new Promise<Record<string, unknown>>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${main} printed no ready line in time; stderr:\n${err.slice(-3000)}`)),
      opts.timeoutMs ?? 15_000,
    );
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      try {
        const v = JSON.parse(line) as Record<string, unknown>;
        if (typeof v.ready === "string") {
          clearTimeout(timer);
          res(v);
        }
      } catch {
        // not the ready line
      }
    });
    exited.then(
      ({ code, signal }) => {
        clearTimeout(timer);
        rej(
          new Error(
            `${main} exited (${code ?? signal}) before ready; stderr:\n${err.slice(-3000)}`,
          ),
        );
      },
      () => {},
    );
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    ready,
    exited,
    stderr: () => err,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const t = setTimeout(() => {
          if (opts.detached && child.pid) {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          } else child.kill("SIGKILL");
        }, 5000);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}

/** A minimal prompt dir for tests (the repo's prompts/ are someone else's). */
export function writeTestPrompts(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "agent.md"),
    "You are {label}, an agent of the hive. The operator's pronouns are {operator_pronouns}.\n",
  );
  writeFileSync(
    join(dir, "manager.md"),
    "You are {label}, the manager. Operator: {operator_pronouns}.\n",
  );
  return dir;
}

/** The model server's control API. */
export class ModelControl {
  constructor(readonly url: string) {}

  async setScript(rules: unknown): Promise<void> {
    const r = await fetch(`${this.url}/_script`, { method: "PUT", body: JSON.stringify(rules) });
    if (!r.ok) throw new Error(`PUT /_script: ${r.status} ${await r.text()}`);
  }

  async requests(): Promise<{ path: string; kind: string; rule: number | null; text: string }[]> {
    const r = await fetch(`${this.url}/_requests`);
    return (await r.json()) as { path: string; kind: string; rule: number | null; text: string }[];
  }

  async clearRequests(): Promise<void> {
    await fetch(`${this.url}/_requests`, { method: "DELETE" });
  }

  async release(): Promise<number> {
    const r = await fetch(`${this.url}/_release`, { method: "POST" });
    return ((await r.json()) as { released: number }).released;
  }
}
