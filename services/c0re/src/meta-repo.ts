import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  AgentConfig,
  type AgentName,
  type AgentRunConfig,
  CommitSha,
  ErrorCode,
  HiveError,
  type Logger,
  type ModelName,
} from "@hyperhive/shared";
import { parseConfig, summarizeChange } from "./agent-config.js";
import { git, gitTest, UPLOAD_PACK_ANY_OWNER } from "./git.js";

/** meta's branch: what every agent runs with. */
const MAIN = "refs/heads/main";
/** Where new sub-agents' configs come from. */
export const DEFAULTS_FILE = "defaults/agent.json";
/** The longest diff an approval can carry (the approval schema's limit). */
const MAX_DIFF_CHARS = 200_000;

/** `agents/<name>.json`: one agent's config in meta. */
export function agentFile(name: AgentName): string {
  return `agents/${name}.json`;
}

/** A config as it is written to meta: the full object, defaults filled in, pretty. */
export function renderConfig(config: AgentConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The first 7 digits of a sha, as people say it. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

export interface MetaRepoOptions {
  /** The repository's work tree (`<root>/meta`). */
  dir: string;
  log: Logger;
  /** The model `defaults/agent.json` names when meta is created. */
  defaultModel: ModelName;
}

/** A commit of the manager's, fetched into meta and checked: what an apply_commit approval holds. */
export interface Proposal {
  agent: AgentName;
  commit: CommitSha;
  /** meta's main when it was checked; the diff is against it. */
  base: CommitSha;
  diff: string;
  /** One line for the operator: what the commit changes. */
  summary: string;
}

const bad = (message: string) => new HiveError(ErrorCode.BadRequest, message);

/**
 * The meta repo c0re owns: `defaults/agent.json` and one `agents/<name>.json` per agent, on
 * `main`. What agents run with is read from `main`'s commits, never from the work tree (kept as
 * a view of `main` for the operator). c0re's own commits are made with a private index and land
 * with a compare-and-swap of `main`, one at a time, so neither a half-written work tree nor two
 * writers at once can produce a commit nobody meant.
 */
export class MetaRepo {
  readonly dir: string;
  readonly #log: Logger;
  readonly #defaultModel: ModelName;
  /** Serialises writes to `main`. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(o: MetaRepoOptions) {
    this.dir = o.dir;
    this.#log = o.log;
    this.#defaultModel = o.defaultModel;
  }

  /**
   * Creates the repo when missing (`defaults/agent.json` with the default model) and commits a
   * config made from the defaults for each of `agents` that has none.
   */
  init(agents: readonly AgentName[]): Promise<void> {
    return this.#serial(async () => {
      if (!existsSync(join(this.dir, ".git"))) {
        mkdirSync(this.dir, { recursive: true });
        await git(["init", "-q"], { repo: this.dir });
        await git(["symbolic-ref", "HEAD", MAIN], { repo: this.dir });
        this.#log.info({ dir: this.dir }, "created the meta repo");
      }
      const head = await this.#headOrNull();
      const changes = new Map<string, string | null>();
      let defaults = head && (await this.#has(head, DEFAULTS_FILE)) ? null : this.#freshDefaults();
      if (defaults !== null) changes.set(DEFAULTS_FILE, defaults);
      for (const name of agents) {
        if (head && (await this.#has(head, agentFile(name)))) continue;
        defaults ??= await this.#blob(MAIN, DEFAULTS_FILE);
        changes.set(agentFile(name), defaults);
      }
      if (changes.size > 0) {
        const files = [...changes.keys()].join(", ");
        await this.#commit(changes, head ? `meta: add ${files}` : `meta: init (${files})`);
      }
    });
  }

  /** The sha of `main`. */
  async head(): Promise<CommitSha> {
    return CommitSha.parse((await git(["rev-parse", "--verify", MAIN], { repo: this.dir })).trim());
  }

  /**
   * What an agent runs with: its config on `main`, and as `rev` the last commit that changed that
   * file — not main's head, which moves with every other agent's spawn, purge or config change
   * and would end the operator's `/model` override (it holds until *this* agent's config
   * changes). A config that does not parse (a hand-made commit) is an `internal` error naming it.
   */
  async runConfig(name: AgentName): Promise<AgentRunConfig> {
    const head = await this.head();
    const file = agentFile(name);
    if (!(await this.#has(head, file))) {
      throw new HiveError(ErrorCode.Internal, `meta has no ${file} (at ${shortSha(head)})`);
    }
    const rev = CommitSha.parse(
      (await git(["log", "-1", "--format=%H", MAIN, "--", file], { repo: this.dir })).trim(),
    );
    const parsed = parseConfig(await this.#blob(head, file));
    if (!parsed.ok) {
      throw new HiveError(
        ErrorCode.Internal,
        `${file} in meta is not a valid config: ${parsed.why}`,
      );
    }
    return { config: parsed.config, rev };
  }

  /** Commits `agents/<name>.json` = `defaults/agent.json` (a new sub-agent); returns the commit. */
  addAgent(name: AgentName): Promise<CommitSha> {
    return this.#serial(async () => {
      const defaults = await this.#blob(MAIN, DEFAULTS_FILE);
      return this.#commit(new Map([[agentFile(name), defaults]]), `spawn ${name}: defaults`);
    });
  }

  /** Commits the removal of `agents/<name>.json` (a purge); null if there was none. */
  removeAgent(name: AgentName): Promise<CommitSha | null> {
    return this.#serial(async () => {
      if (!(await this.#has(MAIN, agentFile(name)))) return null;
      return this.#commit(new Map([[agentFile(name), null]]), `purge ${name}`);
    });
  }

  /**
   * Fetches `ref` of the manager's clone and checks it may become `agent`'s config: the commit
   * changes `agents/<agent>.json` and nothing else since it left `main`, and that file is a valid
   * config. Anything else is a `bad_request` saying why; nothing is queued then. The fetched
   * commit is kept under `refs/proposals/<sha>`.
   */
  async propose(clone: string, ref: string, agent: AgentName): Promise<Proposal> {
    if (!existsSync(join(clone, ".git"))) throw bad(`the manager has no clone of meta at ${clone}`);
    const sha = await this.#resolve(clone, ref);
    const short = shortSha(sha);
    try {
      const dst = `+${sha}:refs/proposals/${sha}`;
      const fetch = ["fetch", "-q", "--no-tags", "--no-write-fetch-head", UPLOAD_PACK_ANY_OWNER];
      await git([...fetch, clone, dst], {
        repo: this.dir,
      });
    } catch (e) {
      throw bad(`could not fetch ${ref} (${short}) from the manager's clone: ${String(e)}`);
    }
    const base = await this.head();
    const mergeBase = await git(["merge-base", base, sha], { repo: this.dir }).catch(() => {
      throw bad(`commit ${short} shares no history with meta's main`);
    });
    const changed = (
      await git(["diff", "--name-only", "-z", "--no-renames", mergeBase.trim(), sha], {
        repo: this.dir,
      })
    )
      .split("\0")
      .filter((p) => p !== "");
    const file = agentFile(agent);
    if (changed.length === 0) throw bad(`commit ${short} changes nothing that is not on main`);
    const others = changed.filter((p) => p !== file);
    if (others.length > 0) {
      throw bad(`commit ${short} may change ${file} only, but it changes ${others.join(", ")}`);
    }
    if (!(await this.#has(sha, file))) throw bad(`commit ${short} deletes ${file}`);
    const after = parseConfig(await this.#blob(sha, file));
    if (!after.ok) throw bad(`${file} at ${short} is not a valid config: ${after.why}`);
    const diff = await git(
      ["diff", "--no-color", "--no-ext-diff", "--no-textconv", base, sha, "--", file],
      { repo: this.dir },
    );
    if (diff === "") throw bad(`${file} at ${short} is the same as on main`);
    if (diff.length > MAX_DIFF_CHARS) throw bad(`the change of ${file} is too large to review`);
    const before = (await this.#has(base, file)) ? parseConfig(await this.#blob(base, file)) : null;
    const summary = summarizeChange(agent, short, before?.ok ? before.config : null, after.config);
    return { agent, commit: sha, base, diff, summary };
  }

  /**
   * Moves `main` to `commit` if that is a fast-forward; false (nothing moved) when `main` has
   * moved on since the commit left it.
   */
  fastForward(commit: CommitSha): Promise<boolean> {
    return this.#serial(async () => {
      const main = await this.head();
      if (!(await gitTest(["merge-base", "--is-ancestor", main, commit], { repo: this.dir }))) {
        return false;
      }
      await git(["update-ref", "-m", `apply ${shortSha(commit)}`, MAIN, commit, main], {
        repo: this.dir,
      });
      await this.#refreshWorkTree();
      return true;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  #freshDefaults(): string {
    return renderConfig(AgentConfig.parse({ model: this.#defaultModel }));
  }

  /** A ref of the manager's clone as a full sha: a sha is taken as it is, anything else resolved there. */
  async #resolve(clone: string, ref: string): Promise<CommitSha> {
    if (CommitSha.safeParse(ref).success) return ref;
    const args = ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`];
    const out = await git(args, { repo: clone }).catch(() => {
      throw bad(`no commit ${ref} in the manager's clone`);
    });
    return CommitSha.parse(out.trim());
  }

  async #headOrNull(): Promise<CommitSha | null> {
    const args = ["rev-parse", "--verify", "--quiet", MAIN];
    const out = await git(args, { repo: this.dir }).catch(() => "");
    return out.trim() === "" ? null : CommitSha.parse(out.trim());
  }

  async #has(rev: string, path: string): Promise<boolean> {
    const out = await git(["ls-tree", "--name-only", rev, "--", path], { repo: this.dir });
    return out.trim() === path;
  }

  #blob(rev: string, path: string): Promise<string> {
    return git(["cat-file", "blob", `${rev}:${path}`], { repo: this.dir });
  }

  /** Commits `changes` (path → content, null = delete) on top of `main` with a private index. */
  async #commit(changes: Map<string, string | null>, message: string): Promise<CommitSha> {
    const repo = this.dir;
    const parent = await this.#headOrNull();
    const index = join(repo, ".git", `c0re-index-${process.pid}`);
    const opts = { repo, env: { GIT_INDEX_FILE: index } };
    rmSync(index, { force: true });
    try {
      await git(parent ? ["read-tree", parent] : ["read-tree", "--empty"], opts);
      for (const [path, content] of changes) {
        if (content === null) {
          await git(["update-index", "--force-remove", "--", path], opts);
          continue;
        }
        const blob = (
          await git(["hash-object", "-w", "--stdin"], { ...opts, input: content })
        ).trim();
        await git(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], opts);
      }
      const tree = (await git(["write-tree"], opts)).trim();
      const parents = parent ? ["-p", parent] : [];
      const commit = CommitSha.parse(
        (await git(["commit-tree", tree, ...parents, "-m", message], opts)).trim(),
      );
      // Compare-and-swap: "" means main must not exist yet.
      await git(["update-ref", "-m", message, MAIN, commit, parent ?? ""], { repo });
      await this.#refreshWorkTree();
      this.#log.info({ commit: shortSha(commit), message }, "meta commit");
      return commit;
    } finally {
      rmSync(index, { force: true });
    }
  }

  /** Makes the work tree show `main` again; only a view, so a failure is a warning. */
  async #refreshWorkTree(): Promise<void> {
    try {
      await git(["reset", "-q", "--hard", MAIN], { repo: this.dir });
    } catch (err) {
      this.#log.warn({ err, dir: this.dir }, "could not refresh meta's work tree");
    }
  }
}
