import { join } from "node:path";
import { execa } from "execa";

/**
 * c0re's one way to run git: an argument array through execa (never a shell string), in a
 * pinned environment so the operator's own git setup cannot change what happens — no global or
 * system config (`GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM`), a fixed author and
 * committer, no prompts, no pager, none of the caller's `GIT_*` variables (a `GIT_DIR` or
 * `GIT_INDEX_FILE` of the operator's would point git elsewhere).
 */

/** Who c0re's own commits (spawn, purge, init) are by. */
export const C0RE_GIT_IDENTITY = { name: "hyperhive c0re", email: "c0re@hyperhive.invalid" };

/**
 * Settings given on every command line. They outrank a repository's own config, which matters
 * for the manager's clone: its `.git/config` and hooks are the manager's to write, so nothing
 * there may make c0re's git run a program (hooks, fsmonitor, transports other than plain local
 * paths, ssh).
 */
const OVERRIDES = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.sshCommand=false",
  "protocol.allow=never",
  "protocol.file.allow=always",
  "credential.helper=",
  "diff.external=",
  "core.pager=cat",
  // Under the bwrap driver the manager's clone belongs to the manager's uid; the overrides
  // above are what make c0re's git safe in a repository someone else owns.
  "safe.directory=*",
];

/**
 * For `git fetch <path>` from a repository someone else owns (the manager's clone): git runs
 * `upload-pack` there with the command line's `-c` settings cleared, so it is told again. The
 * value goes through `sh -c`, hence the quotes.
 */
export const UPLOAD_PACK_ANY_OWNER = "--upload-pack=git -c 'safe.directory=*' upload-pack";

/** A git command failed (or git could not be run): its arguments, exit code and stderr. */
export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    const why = stderr.trim().split("\n").at(-1) || `exit code ${exitCode ?? "none"}`;
    super(`git ${args[0] ?? ""} failed: ${why}`);
  }
}

export interface GitOptions {
  /**
   * The work tree of the repository to run in. Its `.git` is named outright (`GIT_DIR`), so git
   * never goes looking in the directories above (a hive root inside someone's repository).
   */
  repo?: string;
  /** Where to run when there is no repository yet (`clone`); default `repo`. */
  cwd?: string;
  /** Written to git's stdin. */
  input?: string;
  /** Extra variables (e.g. `GIT_INDEX_FILE` for a private index). */
  env?: Record<string, string>;
}

/** The environment of every git run: PATH and a pinned git setup, nothing else of ours. */
function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_PAGER: "cat",
    GIT_AUTHOR_NAME: C0RE_GIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: C0RE_GIT_IDENTITY.email,
    GIT_COMMITTER_NAME: C0RE_GIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: C0RE_GIT_IDENTITY.email,
    ...extra,
  };
}

/** Runs `git <args>`; resolves with its stdout, or rejects with a {@link GitError}. */
export async function git(args: readonly string[], o: GitOptions): Promise<string> {
  const r = await run(args, o);
  if (r.failed) throw new GitError(args, r.exitCode, text(r.stderr) || text(r.message));
  return text(r.stdout);
}

/**
 * Runs a git command whose exit code is the answer (`merge-base --is-ancestor`, `diff --quiet`):
 * true for 0, false for 1, a {@link GitError} for anything else.
 */
export async function gitTest(args: readonly string[], o: GitOptions): Promise<boolean> {
  const r = await run(args, o);
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false;
  throw new GitError(args, r.exitCode, text(r.stderr) || text(r.message));
}

/** execa's output as text (it is a string here: no `encoding` or `lines` option is used). */
function text(out: unknown): string {
  return typeof out === "string" ? out : "";
}

function run(args: readonly string[], o: GitOptions) {
  const where: Record<string, string> =
    o.repo === undefined ? {} : { GIT_DIR: join(o.repo, ".git"), GIT_WORK_TREE: o.repo };
  return execa("git", [...OVERRIDES.flatMap((kv) => ["-c", kv]), ...args], {
    cwd: o.cwd ?? o.repo ?? process.cwd(),
    env: gitEnv({ ...where, ...o.env }),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(o.input === undefined ? { stdin: "ignore" as const } : { input: o.input }),
  });
}
