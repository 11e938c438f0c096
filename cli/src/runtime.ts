import { readFileSync } from "node:fs";
import { HiveRuntime, hivePaths } from "@hyperhive/shared";

/** A `hive` command failed in a way worth one clear line to the operator. */
export class CliError extends Error {
  override readonly name = "CliError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Reads `<root>/hive.json` of a running hive. Missing or stale (its `hive up` is gone): throws
 * a CliError, or returns undefined with `quiet`.
 */
export function readRuntime(root: string, opts: { quiet: true }): HiveRuntime | undefined;
export function readRuntime(root: string): HiveRuntime;
export function readRuntime(root: string, opts?: { quiet: true }): HiveRuntime | undefined {
  const file = hivePaths(root).runtimeFile;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    if (opts?.quiet) return undefined;
    throw new CliError(`no hive is running at ${root} (no ${file}); start one with: hive up`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = HiveRuntime.safeParse(raw);
  if (!parsed.success) {
    if (opts?.quiet) return undefined;
    throw new CliError(`${file} is not a valid hive runtime file`);
  }
  if (!alive(parsed.data.pid)) {
    if (opts?.quiet) return undefined;
    throw new CliError(
      `no hive is running at ${root}: ${file} names pid ${parsed.data.pid}, which is gone`,
    );
  }
  return parsed.data;
}
