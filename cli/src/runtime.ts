import { readFileSync } from "node:fs";
import {
  ErrorCode,
  HiveError,
  HiveRuntime,
  hivePaths,
  processAlive,
  writeFileAtomic,
} from "@hyperhive/shared";

/**
 * Reads `<root>/hive.json` of a running hive. Missing or stale (its `hive up` is gone): throws
 * an `unavailable` HiveError saying so, or returns undefined with `quiet`.
 */
export function readRuntime(root: string, opts: { quiet: true }): HiveRuntime | undefined;
export function readRuntime(root: string): HiveRuntime;
export function readRuntime(root: string, opts?: { quiet: true }): HiveRuntime | undefined {
  const file = hivePaths(root).runtimeFile;
  const none = (why: string): undefined => {
    if (opts?.quiet) return undefined;
    throw new HiveError(ErrorCode.Unavailable, `no hive is running at ${root}: ${why}`);
  };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return none(`no ${file}; start one with: hive up`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = HiveRuntime.safeParse(raw);
  if (!parsed.success) return none(`${file} is not a hive runtime file`);
  if (!processAlive(parsed.data.pid)) {
    return none(`${file} names pid ${parsed.data.pid}, which is gone`);
  }
  return parsed.data;
}

/**
 * Writes `<root>/hive.json` (it holds the token): owner-only, also when a stale file of a dead
 * hive is in the way, and atomically, so a concurrent `hive agents` never reads half of it.
 */
export function writeRuntime(root: string, runtime: HiveRuntime): void {
  writeFileAtomic(hivePaths(root).runtimeFile, `${JSON.stringify(runtime, null, 2)}\n`, {
    mode: 0o600,
  });
}
