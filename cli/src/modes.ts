import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { isErrno } from "@hyperhive/shared";
import type { RootPaths } from "./paths.js";

/**
 * A hive root is its operator's alone: the token, the NATS keys and credentials, the mail in the
 * databases, the logs. `hive up` runs with umask 077 (its children inherit it), creates its
 * directories 0700, and narrows what an older root left wider: directories to 0700, files to
 * owner-only. Agents' state is not walked (their own files, possibly large): `agents/` itself is
 * 0700. `<root>/shared`, the one directory meant for the agents to read, is left as it is.
 */

/** The umask `hive up` and everything it starts run with. */
export const HIVE_UMASK = 0o077;

/** Strips group and other bits: 0700 for a directory, 0600 for a plain file. */
function narrow(path: string, st: Stats): void {
  if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
}

/** Narrows `path` and, for a directory, everything under it; symlinks are not followed. */
function narrowTree(path: string): void {
  const st = lstatOrUndefined(path);
  if (!st || st.isSymbolicLink()) return;
  narrow(path, st);
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) narrowTree(join(path, name));
}

/** Creates `dir` (and its parents) 0700, and narrows it if it exists with a wider mode. */
export function ensureOwnerDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  narrow(dir, st);
}

/**
 * Makes the root owner-only: the directories `hive up` and its services use exist 0700, and
 * what is under db, logs, nats and private is narrowed to owner-only (a root an older `hive up`
 * made under a laxer umask).
 */
export function secureRoot(paths: RootPaths): void {
  ensureOwnerDir(paths.root);
  const dbDir = join(paths.root, "db");
  const agentsDir = join(paths.root, "agents");
  for (const dir of [
    dbDir,
    paths.logsDir,
    paths.servicesLogDir,
    paths.natsDir,
    agentsDir,
    paths.privateDir,
  ]) {
    ensureOwnerDir(dir);
  }
  for (const tree of [dbDir, paths.logsDir, paths.natsDir, paths.privateDir]) narrowTree(tree);
  const runtime = lstatOrUndefined(paths.runtimeFile);
  if (runtime?.isFile()) narrow(paths.runtimeFile, runtime);
}
