import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { hivePaths, type Logger, MANAGER } from "@hyperhive/shared";
import { git, gitTest } from "./git.js";

/** The manager's identity in its clone, so it can commit there. */
export const MANAGER_GIT_IDENTITY = { name: MANAGER, email: "manager@hyperhive.invalid" };

/** `<manager state dir>/meta`: where the manager edits configs and commits proposals. */
export function managerCloneDir(root: string): string {
  return join(hivePaths(root).agentStateDir(MANAGER), "meta");
}

export interface ManagerCloneOptions {
  /** meta's work tree (the clone's origin). */
  metaDir: string;
  /** The clone's work tree. */
  dir: string;
  log: Logger;
  /**
   * Hands what c0re just wrote in the clone to the manager (the driver's `adopt`): under the
   * bwrap driver the clone is the manager uid's, and a root-owned object dir would stop its
   * next commit.
   */
  adopt?: (dir: string) => void;
}

/**
 * The manager's clone of meta: made when missing, and brought up to date after every change of
 * meta's `main` — fetched always; its checked-out `main` fast-forwarded only when that is clean
 * and behind (the manager's own work, committed or not, is never touched). The clone is the
 * manager's to write, so git runs there with c0re's overrides (no hooks, no fsmonitor, local
 * transport only).
 */
export class ManagerClone {
  readonly #o: ManagerCloneOptions;
  /** One sync at a time (two approvals may finish together). */
  #chain: Promise<void> = Promise.resolve();

  constructor(o: ManagerCloneOptions) {
    this.#o = o;
  }

  get dir(): string {
    return this.#o.dir;
  }

  /** Clones meta if the clone is missing. A non-empty directory that is no clone is left alone. */
  async ensure(): Promise<void> {
    const { dir, metaDir, log } = this.#o;
    if (existsSync(join(dir, ".git"))) return;
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      log.warn({ dir }, "the manager's meta dir is not a git clone; leaving it alone");
      return;
    }
    mkdirSync(dirname(dir), { recursive: true });
    await git(["clone", "-q", "--no-hardlinks", "--branch", "main", metaDir, dir], {
      cwd: dirname(dir),
    });
    await git(["config", "user.name", MANAGER_GIT_IDENTITY.name], { repo: dir });
    await git(["config", "user.email", MANAGER_GIT_IDENTITY.email], { repo: dir });
    this.#o.adopt?.(dir);
    log.info({ dir }, "cloned meta for the manager");
  }

  /** Brings the clone up to date (see the class); failures are logged, never thrown. */
  sync(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#sync());
    return this.#chain;
  }

  async #sync(): Promise<void> {
    const { dir, metaDir, log } = this.#o;
    try {
      if (!existsSync(join(dir, ".git"))) return await this.ensure();
      const repo = { repo: dir };
      const fetch = [
        "fetch",
        "-q",
        "--no-tags",
        metaDir,
        "+refs/heads/main:refs/remotes/origin/main",
      ];
      await git(fetch, repo);
      const head = (await git(["symbolic-ref", "-q", "HEAD"], repo).catch(() => "")).trim();
      if (head !== "refs/heads/main") return;
      // Untracked files do not count: a fast-forward that would overwrite one is refused by git.
      const status = await git(["status", "--porcelain", "--untracked-files=no"], repo);
      if (status.trim() !== "") return;
      const behind = await gitTest(
        ["merge-base", "--is-ancestor", "HEAD", "refs/remotes/origin/main"],
        repo,
      );
      if (behind) await git(["merge", "-q", "--ff-only", "refs/remotes/origin/main"], repo);
    } catch (err) {
      log.warn({ err, dir }, "could not bring the manager's clone of meta up to date");
    } finally {
      // Even after a failure: a fetch that got halfway has written objects.
      if (existsSync(dir)) this.#o.adopt?.(dir);
    }
  }
}
