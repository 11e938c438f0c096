#!/usr/bin/env node
// Installs the npm dependencies when node_modules is missing or older than package-lock.json, so
// that `npm start` and `npm test` work straight after `git clone`. `npm install`, not `npm ci`:
// some registries (mirrors) lack other platforms' optional binaries (biome, turbo), which
// `npm ci` refuses as an out-of-sync lock file while `npm install` simply skips them.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = join(root, "package-lock.json");
const installed = join(root, "node_modules", ".package-lock.json");

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.error("hyperhive: installing dependencies (npm install)…");
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
