import { type FSWatcher, readFileSync, type Stats, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "@hyperhive/shared";

/** Where the operator token comes from; asked on every request, so a rotation takes at once. */
export interface TokenSource {
  /** The operator token now; undefined while there is none (then no request is let in). */
  current(): string | undefined;
  /** Runs `fn` after the token changed; returns what removes it. */
  onChange(fn: () => void): () => void;
}

/** A token that never changes (`HIVE_WEB_TOKEN`, tests). */
export function fixedToken(token: string): TokenSource {
  return { current: () => token, onChange: () => () => {} };
}

/** The token file could not be used at start. */
export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
}

/** The signature of a file that could not be read. */
const MISSING = "missing";

/** What identifies one version of the file: an atomic replace changes the inode. */
function signature(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * The token read from a file (`HIVE_WEB_TOKEN_FILE`, written owner-only by `hive up`) and read
 * again whenever the file changes: `hive token --rotate` replaces it atomically (write, rename),
 * and from then on only the new token is let in, without a restart.
 *
 * Each `current()` compares the file's stat with the version last read (a stat per request), so
 * a request after the rename already sees the new token; a watch on the directory also notices
 * it between requests, so listeners (ending SSE streams opened with the old token) run promptly.
 * A file that disappears or becomes empty lets nobody in until it is back: fail closed.
 */
export class FileToken implements TokenSource {
  readonly path: string;
  readonly #log: Logger;
  readonly #listeners = new Set<() => void>();
  #token: string | undefined;
  #seen: string | undefined;
  #watcher: FSWatcher | undefined;

  private constructor(path: string, log: Logger) {
    this.path = path;
    this.#log = log;
  }

  /**
   * Reads the file (a missing, unreadable or empty file is a {@link TokenFileError}: the web does
   * not start) and watches its directory for replacements. Warns when group or others may read it.
   */
  static open(path: string, log: Logger): FileToken {
    const t = new FileToken(path, log);
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new TokenFileError(`HIVE_WEB_TOKEN_FILE ${path}: ${why}`);
    }
    t.#refresh();
    if (t.#token === undefined) {
      throw new TokenFileError(`HIVE_WEB_TOKEN_FILE ${path} is empty or unreadable`);
    }
    if ((st.mode & 0o077) !== 0) {
      log.warn(
        { path, mode: (st.mode & 0o777).toString(8) },
        "token file is readable by group or others; it should be owner-only (chmod 600)",
      );
    }
    try {
      // The directory, not the file: an atomic replace swaps the inode a file watch would follow.
      t.#watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(path)) t.#refresh();
      });
      t.#watcher.on("error", (e) => log.warn({ err: e, path }, "token file watch failed"));
    } catch (e) {
      // Still correct without it: every request checks the file.
      log.warn({ err: e, path }, "cannot watch the token file's directory");
    }
    return t;
  }

  current(): string | undefined {
    this.#refresh();
    return this.#token;
  }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Re-reads the file if it is not the version last read; tells the listeners on a change. */
  #refresh(): void {
    let seen: string;
    let token: string | undefined;
    try {
      seen = signature(statSync(this.path));
      if (seen === this.#seen) return;
      token = readFileSync(this.path, "utf8").trim() || undefined;
    } catch (e) {
      if (this.#seen === MISSING) return;
      seen = MISSING;
      this.#log.warn({ err: e, path: this.path }, "cannot read the token file");
    }
    this.#seen = seen;
    if (token === this.#token) return;
    const had = this.#token !== undefined;
    this.#token = token;
    if (token === undefined) {
      this.#log.warn({ path: this.path }, "no operator token (file gone or empty): refusing all");
    } else if (had) {
      this.#log.info({ path: this.path }, "operator token changed");
    }
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch (e) {
        this.#log.warn({ err: e }, "token change listener failed");
      }
    }
  }
}
