import { constants, existsSync, type Stats } from "node:fs";
import { type FileHandle, lstat, open, readdir, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import {
  type AgentLogResponse,
  type AgentName,
  DEFAULT_FILE_CAP,
  ErrorCode,
  type FileEntry,
  type FileKind,
  type FileReadResponse,
  type FilesListResponse,
  type FilesPlace,
  HiveError,
  hivePaths,
  isErrno,
  MAX_FILE_ENTRIES,
} from "@hyperhive/shared";
import { agentLogFile, readLogLines } from "./agent-log.js";

/** Who may be read: an agent of the registry, active or a tombstone not yet purged. */
export type KnownAgent = (name: AgentName) => boolean;

export interface StateFilesOptions {
  /** The hive root: `<root>/agents/<name>/state`, `<root>/logs/<name>.log`. */
  root: string;
  known: KnownAgent;
  /** The largest file served, in bytes; default {@link DEFAULT_FILE_CAP}. */
  capBytes?: number;
}

/** Log lines a tail returns when the request names no count. */
const DEFAULT_LOG_LINES = 100;

const O_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Linux names an open fd's real path here: how a check is tied to what was opened. */
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;

const forbidden = (m: string) => new HiveError(ErrorCode.Forbidden, m);
const notFound = (m: string) => new HiveError(ErrorCode.NotFound, m);

const worldReadable = (st: Stats) => (st.mode & 0o004) !== 0;
/** World-searchable: another user could go through it. */
const worldSearchable = (st: Stats) => (st.mode & 0o001) !== 0;

function kindOf(st: Stats): FileKind {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  return "other";
}

const isMissing = (e: unknown) => isErrno(e, "ENOENT", "ENOTDIR");

/**
 * An agent's state files, and the shared dir every agent writes in, read for the operator
 * (privsep: the web holds no files, and the operator sees only what the agent left readable to
 * anyone; agents write the shared dir, so it gets the same checks). What is served is what another
 * user of the machine could read if given the state dir: every directory on the way below it
 * world-searchable (o+x), a listed directory world-readable too (o+r), a read file world-readable;
 * no symlink anywhere on the way, the last component included, even one pointing inside the
 * state dir; regular files only, up to the cap (a larger one is refused, never cut).
 *
 * Each path is walked with `lstat` component by component, then opened with `O_NOFOLLOW`; the
 * opened fd must be the file that was checked (same device and inode) and, on Linux, its real
 * path (`/proc/self/fd`) must be exactly the state dir's plus the relative path — so a component
 * swapped for a symlink between the check and the open is caught. Elsewhere the path is walked
 * again after the open instead.
 */
export class StateFiles {
  readonly #o: StateFilesOptions;
  readonly #cap: number;

  constructor(o: StateFilesOptions) {
    this.#o = o;
    this.#cap = o.capBytes ?? DEFAULT_FILE_CAP;
  }

  /**
   * One directory: its entries sorted by name, at most {@link MAX_FILE_ENTRIES}; with `after`,
   * those whose names sort after it (the next page).
   */
  async list(place: FilesPlace, rel?: string, after?: string): Promise<FilesListResponse> {
    const base = await this.#base(place);
    const segs = rel === undefined ? [] : rel.split("/");
    const shown = rel ?? "";
    const walked = await walk(base, segs);
    const last = walked.at(-1);
    if (last !== undefined) {
      if (!last.isDirectory()) {
        throw new HiveError(ErrorCode.BadRequest, `${shown} is not a directory (read it instead)`);
      }
      if (!worldReadable(last) || !worldSearchable(last)) {
        throw forbidden(`${shown} is not world-readable (mode ${modeOf(last)}): not shown`);
      }
    }
    const full = join(base.real, ...segs);
    const fh = await openChecked(full, constants.O_DIRECTORY, shown);
    try {
      const dir = await this.#verified(fh, base, segs, walked, shown);
      // Sorted by code unit, the order `>` compares in: a page starts right after `after`.
      const all = (await readdir(dir)).sort();
      const names = after === undefined ? all : all.filter((n) => n > after);
      const entries: FileEntry[] = [];
      for (const name of names.slice(0, MAX_FILE_ENTRIES)) {
        let st: Stats;
        try {
          st = await lstat(join(dir, name));
        } catch (e) {
          if (isMissing(e)) continue; // gone since the listing: not worth an error
          throw e;
        }
        const kind = kindOf(st);
        const readable =
          kind === "file"
            ? worldReadable(st)
            : kind === "dir" && worldReadable(st) && worldSearchable(st);
        entries.push({ name, kind, size: st.size, mtime: Math.trunc(st.mtimeMs), readable });
      }
      return {
        ...placeOf(place),
        path: shown,
        entries,
        truncated: names.length > MAX_FILE_ENTRIES,
      };
    } finally {
      await fh.close();
    }
  }

  /** One whole file: as text when it is UTF-8, else base64. Over the cap: `body_too_large`. */
  async read(place: FilesPlace, rel: string, maxBytes?: number): Promise<FileReadResponse> {
    const cap = Math.min(maxBytes ?? this.#cap, this.#cap);
    const base = await this.#base(place);
    const segs = rel.split("/");
    const walked = await walk(base, segs);
    const last = walked.at(-1);
    if (last === undefined) throw new HiveError(ErrorCode.BadRequest, "no file named");
    if (last.isDirectory()) {
      throw new HiveError(ErrorCode.BadRequest, `${rel} is a directory (list it instead)`);
    }
    checkReadable(last, rel, cap);
    const fh = await openChecked(join(base.real, ...segs), 0, rel);
    try {
      await this.#verified(fh, base, segs, walked, rel);
      const st = await fh.stat();
      // Checked again on the fd: a chmod or a write may have come between.
      checkReadable(st, rel, cap);
      const buf = Buffer.alloc(cap + 1);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got > cap) throw tooLarge(rel, got, cap, true);
      const bytes = buf.subarray(0, got);
      const text = utf8(bytes);
      return {
        ...placeOf(place),
        path: rel,
        size: got,
        mtime: Math.trunc(st.mtimeMs),
        encoding: text === undefined ? "base64" : "utf8",
        content: text ?? bytes.toString("base64"),
      };
    } finally {
      await fh.close();
    }
  }

  /**
   * The last lines of the agent's harness log (none when it has none yet); with `after`, of those
   * written since that offset (a previous answer's `end`).
   */
  async log(agent: AgentName, lines?: number, after?: number): Promise<AgentLogResponse> {
    if (!this.#o.known(agent)) throw notFound(`no agent named ${agent}`);
    const path = agentLogFile(this.#o.root, agent);
    return { agent, ...(await readLogLines(path, lines ?? DEFAULT_LOG_LINES, after)) };
  }

  /**
   * The agent's state dir, or the shared dir, itself no symlink, as given and as its real path.
   */
  async #base(place: FilesPlace): Promise<Base> {
    const paths = hivePaths(this.#o.root);
    let dir: string;
    let what: string;
    let missing: string;
    if ("shared" in place) {
      dir = paths.sharedDir;
      what = "the shared dir";
      missing = "the hive has no shared dir yet (it is made when an agent is created)";
    } else {
      if (!this.#o.known(place.agent)) throw notFound(`no agent named ${place.agent}`);
      dir = paths.agentStateDir(place.agent);
      what = `${place.agent}'s state dir`;
      missing = `${place.agent} has no state dir`;
    }
    let st: Stats;
    try {
      st = await lstat(dir);
    } catch (e) {
      if (isMissing(e)) throw notFound(missing);
      throw e;
    }
    if (st.isSymbolicLink()) throw forbidden(`${what} is a symlink`);
    if (!st.isDirectory()) throw notFound(missing);
    return { dir, real: await realpath(dir), dev: st.dev, ino: st.ino };
  }

  /**
   * Ties the checks to the open fd; returns the path to read it through (its `/proc/self/fd`
   * entry on Linux, so nothing is resolved by name again).
   */
  async #verified(
    fh: FileHandle,
    base: Base,
    segs: string[],
    walked: Stats[],
    shown: string,
  ): Promise<string> {
    const st = await fh.stat();
    const expected = walked.at(-1) ?? { dev: base.dev, ino: base.ino };
    const moved = () => forbidden(`${shown || "."} changed while it was being read`);
    if (st.dev !== expected.dev || st.ino !== expected.ino) throw moved();
    if (PROC_FD !== undefined) {
      const fdPath = `${PROC_FD}/${fh.fd}`;
      if ((await readlink(fdPath)) !== join(base.real, ...segs)) throw moved();
      return fdPath;
    }
    const again = await walk(base, segs);
    const same = again.every((s, i) => s.dev === walked[i]?.dev && s.ino === walked[i]?.ino);
    if (!same) throw moved();
    return join(base.real, ...segs);
  }
}

/** The place as an answer names it (the request's, without anything else it carried). */
function placeOf(place: FilesPlace): FilesPlace {
  return "shared" in place ? { shared: true } : { agent: place.agent };
}

interface Base {
  dir: string;
  real: string;
  dev: number;
  ino: number;
}

/**
 * `lstat`s each component under the state dir: a missing one is `not_found`, a symlink
 * `forbidden` (never followed), a directory on the way not world-searchable `forbidden`.
 */
async function walk(base: Base, segs: string[]): Promise<Stats[]> {
  // The wire schema refuses these already; checked again so no caller can step outside.
  if (segs.some((s) => s === "" || s === "." || s === ".." || s.includes("\0"))) {
    throw new HiveError(ErrorCode.BadRequest, "the path must stay inside the dir it names");
  }
  const out: Stats[] = [];
  let cur = base.real;
  for (const [i, seg] of segs.entries()) {
    cur = join(cur, seg);
    const sofar = segs.slice(0, i + 1).join("/");
    let st: Stats;
    try {
      st = await lstat(cur);
    } catch (e) {
      if (isMissing(e)) throw notFound(`${sofar}: no such file or directory`);
      throw e;
    }
    if (st.isSymbolicLink()) throw forbidden(`${sofar} is a symlink: symlinks are never followed`);
    if (i < segs.length - 1) {
      if (!st.isDirectory()) throw notFound(`${sofar} is not a directory`);
      if (!worldSearchable(st)) {
        throw forbidden(`${sofar} is not world-searchable (mode ${modeOf(st)})`);
      }
    }
    out.push(st);
  }
  return out;
}

async function openChecked(path: string, flags: number, shown: string): Promise<FileHandle> {
  try {
    return await open(path, O_READ | flags);
  } catch (e) {
    if (isMissing(e)) throw notFound(`${shown}: no such file or directory`);
    // ELOOP: it became a symlink after the walk.
    if (isErrno(e, "ELOOP")) {
      throw forbidden(`${shown} is a symlink: symlinks are never followed`);
    }
    throw e;
  }
}

function checkReadable(st: Stats, rel: string, cap: number): void {
  if (!st.isFile()) throw forbidden(`${rel} is not a regular file (${kindOf(st)})`);
  if (!worldReadable(st)) {
    throw forbidden(
      `${rel} is not world-readable (mode ${modeOf(st)}): the agent keeps it private`,
    );
  }
  if (st.size > cap) throw tooLarge(rel, st.size, cap, false);
}

function tooLarge(rel: string, size: number, cap: number, grew: boolean): HiveError {
  const what = grew ? `grew past ${cap} bytes while it was read` : `is ${size} bytes`;
  return new HiveError(ErrorCode.BodyTooLarge, `${rel} ${what}: over the ${cap}-byte cap`);
}

function modeOf(st: Stats): string {
  return (st.mode & 0o777).toString(8).padStart(4, "0");
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes as text if they are valid UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
