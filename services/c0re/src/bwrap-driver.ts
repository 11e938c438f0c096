import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { type AgentName, type Clock, hivePaths, systemClock } from "@hyperhive/shared";
import type { AgentSpec } from "./driver.js";
import { harnessEnv } from "./harness-env.js";
import {
  type HarnessCommand,
  ProcessDriver,
  type ProcessDriverOptions,
  ProcessLauncher,
} from "./process-driver.js";
import {
  type AgentUids,
  bwrapArgs,
  chownTree,
  identityFileContents,
  type SandboxUser,
  SHARED_DIR_MODE,
  sandboxUserKind,
  sandboxUserName,
} from "./sandbox.js";

/** Settings of the bwrap driver: the process driver's, plus what the sandbox needs. */
export interface BwrapDriverOptions extends ProcessDriverOptions {
  /** Per-agent uids; required when c0re runs as root (each agent then runs as its own uid). */
  uids?: AgentUids;
  /**
   * Paths the agent must still see (read-only) if they lie under the hidden HOME: the repo
   * (harness, node_modules/.bin/claude, prompts). Node's own install is always kept.
   */
  keep?: readonly string[];
}

/**
 * Runs each agent's harness in a bubblewrap sandbox (see `sandbox.ts` for what it sees), under
 * the same supervision, process group, lifeline, pid file and log as the process driver. Under
 * root each agent gets its own uid, and its state and run dirs are chowned to it before every
 * launch (c0re writes into them between launches: credentials, run config).
 */
export class BwrapDriver extends ProcessDriver {
  override readonly kind = "bwrap";
  readonly #uids: AgentUids | undefined;

  constructor(o: BwrapDriverOptions) {
    const user = sandboxUserKind();
    if (user === "uid" && !o.uids) throw new Error("the bwrap driver under root needs agent uids");
    if (user === "userns") {
      o.log.warn(
        "c0re is not root: agents share its uid inside their sandboxes, so file modes do not separate them (mounts still do)",
      );
    }
    super(o, new BwrapLauncher(o, o.clock ?? systemClock));
    this.#uids = o.uids;
  }

  /**
   * The process driver's dirs, and the shared dir: every agent reads and writes in it under its
   * own uid, and the sticky bit (as on /tmp) keeps anyone but a file's owner (and the operator)
   * from removing or renaming it; what the operator put there, agents only read.
   */
  override async create(spec: AgentSpec): Promise<void> {
    await super.create(spec);
    chmodSync(hivePaths(this.root).sharedDir, SHARED_DIR_MODE);
  }

  /** chowns `path` (inside the agent's state dir, or refused) to the agent's uid, under root. */
  override adopt(name: AgentName, path: string): void {
    const state = hivePaths(this.root).agentStateDir(name);
    const rel = relative(state, path);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new Error(`${path} is not inside ${name}'s state dir`);
    }
    if (sandboxUserKind() !== "uid" || !this.#uids) return;
    const uid = this.#uids.uidFor(name);
    chownTree(path, uid, uid);
  }
}

class BwrapLauncher extends ProcessLauncher {
  readonly #o: BwrapDriverOptions;

  constructor(o: BwrapDriverOptions, clock: Clock) {
    super(o, clock);
    this.#o = o;
  }

  protected override async command(spec: AgentSpec): Promise<HarnessCommand> {
    const o = this.#o;
    const paths = hivePaths(o.root);
    const state = paths.agentStateDir(spec.name);
    const run = paths.agentRunDir(spec.name);
    const base = o.baseEnv ?? process.env;
    const user = this.#user(spec);
    let identityFiles: { passwd: string; group: string } | undefined;
    if (user.kind === "uid") {
      const files = identityFileContents(spec.name, user, state);
      // Beside the state and run dirs, not in them: the agent must not rewrite its /etc/passwd.
      const dir = join(dirname(state), "sandbox");
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      identityFiles = { passwd: join(dir, "passwd"), group: join(dir, "group") };
      writeFileSync(identityFiles.passwd, files.passwd, { mode: 0o644 });
      writeFileSync(identityFiles.group, files.group, { mode: 0o644 });
      // Right before the launch: whatever c0re wrote since (credentials) becomes the agent's.
      chownTree(state, user.uid, user.gid);
      chownTree(run, user.uid, user.gid);
    }
    const env: NodeJS.ProcessEnv = {
      ...harnessEnv(spec, o, base),
      // The hive user's HOME is hidden inside; the agent's home is its state dir.
      HOME: state,
      USER: sandboxUserName(spec.name),
      LOGNAME: sandboxUserName(spec.name),
      TMPDIR: "/tmp",
    };
    const args = bwrapArgs({
      root: o.root,
      name: spec.name,
      user,
      home: base.HOME,
      // node's prefix (…/bin/node → …): an nvm install under HOME must stay visible.
      keep: [dirname(dirname(process.execPath)), ...(o.keep ?? [])],
      identityFiles,
      command: [process.execPath, o.harnessBin, "serve"],
    });
    return { command: "bwrap", args, env };
  }

  #user(spec: AgentSpec): SandboxUser {
    if (sandboxUserKind() === "userns") return { kind: "userns" };
    const uids = this.#o.uids;
    if (!uids) throw new Error("the bwrap driver under root needs agent uids");
    const uid = uids.uidFor(spec.name);
    return { kind: "uid", uid, gid: uid };
  }
}
