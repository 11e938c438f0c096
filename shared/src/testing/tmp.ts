import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A fresh temp dir and its remover. */
export function tempDir(prefix = "hive-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The repository root: the nearest directory above `from` (a file URL or path) holding the
 * workspace's `turbo.json`. Works from a test's source (`test/`) and from its build (`dist/test/`).
 */
export function repoRoot(from: string | URL): string {
  let dir = dirname(from instanceof URL || from.startsWith("file:") ? fileURLToPath(from) : from);
  while (!existsSync(join(dir, "turbo.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root (turbo.json) above ${String(from)}`);
    dir = up;
  }
  return dir;
}
