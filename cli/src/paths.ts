import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's own place (cli/dist/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Built entry points of the services `hive up` starts, by path (the CLI never imports them). */
export const entryPoints = {
  broker: join(repoRoot, "services/broker/dist/src/main.js"),
  c0re: join(repoRoot, "services/c0re/dist/src/main.js"),
  harness: join(repoRoot, "services/harness/dist/src/main.js"),
  modelServer: join(repoRoot, "services/model-server/dist/src/main.js"),
  web: join(repoRoot, "services/web/dist/src/main.js"),
} as const;

export const promptsDir = join(repoRoot, "prompts");

/** The claude CLI installed with the repo (root devDependency), if present. */
export function bundledClaude(): string | undefined {
  const p = join(repoRoot, "node_modules/.bin/claude");
  return existsSync(p) ? p : undefined;
}
