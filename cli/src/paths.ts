import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultHiveRoot, hivePaths } from "@hyperhive/shared";

/**
 * The repository root: the nearest directory above this file holding the workspace's
 * `turbo.json` (this file runs from cli/dist/src, and from cli/src in tests).
 */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "turbo.json"))) return dir;
    if (dirname(dir) === dir) return resolve(from, "../../..");
  }
}

/** Built entry points of what `hive up` starts, by path (the CLI never imports a service). */
export const entryPoints = {
  broker: join(repoRoot, "services/broker/dist/src/main.js"),
  c0re: join(repoRoot, "services/c0re/dist/src/main.js"),
  harness: join(repoRoot, "services/harness/dist/src/main.js"),
  modelServer: join(repoRoot, "services/model-server/dist/src/main.js"),
  scheduler: join(repoRoot, "services/scheduler/dist/src/main.js"),
  web: join(repoRoot, "services/web/dist/src/main.js"),
  /** Our own: holds nats-server's lifeline (see nats-guard.ts). */
  natsGuard: join(repoRoot, "cli/dist/src/nats-guard.js"),
} as const;

export const promptsDir = join(repoRoot, "prompts");

/** The hive root a command acts on: `--root`, else `$HIVE_ROOT`, else `~/.hyperhive`; absolute. */
export function rootOf(root: string | undefined): string {
  return resolve(root ?? defaultHiveRoot());
}

/** The claude CLI installed with the repo (root devDependency), if present. */
export function bundledClaude(): string | undefined {
  const p = join(repoRoot, "node_modules/.bin/claude");
  return existsSync(p) ? p : undefined;
}

/**
 * Where `hive up` keeps things under a hive root, beside the services' own (`hivePaths`).
 * `private/` is the owner's alone (0700, files 0600): what must stay the same across restarts of
 * the hive, and what a new `hive up` needs to find a dead one's processes.
 */
export function rootPaths(root: string) {
  const base = hivePaths(root);
  const privateDir = join(root, "private");
  return {
    ...base,
    privateDir,
    /** The operator token; the web reads it (HIVE_WEB_TOKEN_FILE) and follows rotations. */
    tokenFile: join(privateDir, "token"),
    /** The hive's NATS client port, chosen by the first `hive up` and kept. */
    natsPortFile: join(privateDir, "nats-port"),
    /** What the running `hive up` started: pids with their start ticks (see leftovers.ts). */
    processesFile: join(privateDir, "processes.json"),
    /** One log per service: a subdir, so an agent named like a service has its own file. */
    servicesLogDir: join(base.logsDir, "services"),
  };
}
export type RootPaths = ReturnType<typeof rootPaths>;
