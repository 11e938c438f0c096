import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Whether `e` is a system error with one of these codes (`ENOENT`, `EADDRINUSE`, `EPERM`, ...). */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  return e instanceof Error && "code" in e && typeof e.code === "string" && codes.includes(e.code);
}

export interface WriteAtomicOptions {
  /** File mode, e.g. 0o600 for a secret; applied before the file appears under its name. */
  mode?: number;
}

/**
 * Writes a file atomically: a temp file beside it, then a rename over the target, so a reader
 * sees the old content or the new, never half of it, and a secret is never readable by others
 * even for a moment (the mode is set on the temp file, which replaces any older, laxer file).
 * Creates the directory if needed.
 */
export function writeFileAtomic(path: string, data: string, opts: WriteAtomicOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, data, opts.mode === undefined ? {} : { mode: opts.mode });
  renameSync(tmp, path);
}
