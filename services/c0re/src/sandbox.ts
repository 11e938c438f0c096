import { spawnSync } from "node:child_process";
import {
  chownSync,
  lchownSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { type AgentName, type Db, hivePaths } from "@hyperhive/shared";
import { z } from "zod";

/**
 * The bubblewrap sandbox of one agent: argv building, the startup probe and per-agent uids.
 *
 * Two ways to be unprivileged inside it:
 * - c0re runs as root ("uid"): bwrap runs as root (so it can bind paths under dirs only root may
 *   enter, e.g. `/root/.hyperhive`), and inside it `setpriv` becomes the agent's own uid with no
 *   capabilities, an empty bounding set and no_new_privs before the harness starts. File modes
 *   then separate agents too.
 * - c0re is not root ("userns"): bwrap makes a user namespace, keeps the host uid and drops every
 *   capability; only the mounts separate agents, since they all share c0re's uid.
 */
export type SandboxUser = { kind: "uid"; uid: number; gid: number } | { kind: "userns" };

/** Agents' uids are `SANDBOX_UID_BASE + n`, n ≥ 1; the base itself is the probe's. */
export const SANDBOX_UID_BASE = 30_000;

/**
 * The shared dir's mode: anyone writes in it, only a file's owner (or root) removes or renames
 * it, as on /tmp. Agents are separate uids under root, so each one's files there stay its own.
 */
export const SHARED_DIR_MODE = 0o1777;

export interface SandboxLayout {
  root: string;
  name: AgentName;
  user: SandboxUser;
  /** The hive user's HOME: hidden (it may hold ~/.claude, ~/.ssh, tokens). */
  home?: string | undefined;
  /** Paths the agent needs read-only even when they lie under a hidden dir (the repo, node). */
  keep: readonly string[];
  /** Files shown as /etc/passwd and /etc/group (see {@link identityFileContents}). */
  identityFiles?: { passwd: string; group: string } | undefined;
  /** The program and its arguments, as run inside. */
  command: readonly string[];
}

/** `a` is `b` or lies below it. */
const within = (a: string, b: string): boolean => {
  const r = relative(b, a);
  return r === "" || (!r.startsWith("..") && !r.startsWith("/"));
};

/**
 * Binds `kept` again, read-only, inside a hidden dir. A kept dir others may not enter (a clone in
 * a `mktemp -d` dir is 0700) is rebuilt as a 0755 dir with its entries bound one by one: the
 * agent runs as a uid of its own and must pass through it to reach the harness's code.
 */
function showAgain(kept: string): string[] {
  let mode: number;
  try {
    const st = statSync(kept);
    if (!st.isDirectory()) return ["--ro-bind", kept, kept];
    mode = st.mode;
  } catch {
    return ["--ro-bind", kept, kept]; // bwrap says what is missing
  }
  if ((mode & 0o005) === 0o005) return ["--ro-bind", kept, kept];
  const out = ["--perms", "0755", "--dir", kept];
  for (const e of readdirSync(kept, { withFileTypes: true })) {
    const p = join(kept, e.name);
    if (e.isSymbolicLink()) out.push("--symlink", readlinkSync(p), p);
    else out.push("--ro-bind", p, p);
  }
  return out;
}

/**
 * The `bwrap` argv (without `bwrap`) that runs `l.command` as the agent: the system read-only, a
 * private /tmp, /proc of its own pid namespace, and of the hive root only its state dir
 * (read-write), run dir (read-write: socket, credentials) and the shared dir (read-write, sticky:
 * see {@link SHARED_DIR_MODE}). The network namespace is the host's: NATS and the model server
 * are on 127.0.0.1.
 */
export function bwrapArgs(l: SandboxLayout): string[] {
  const paths = hivePaths(l.root);
  const state = paths.agentStateDir(l.name);
  const run = paths.agentRunDir(l.name);
  const a: string[] = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  /** Hides `dir` under an empty tmpfs, showing again (read-only) what the agent must keep. */
  const hide = (dir: string, perms?: string): void => {
    if (perms) a.push("--perms", perms);
    a.push("--tmpfs", dir);
    for (const k of l.keep) {
      if (!within(k, dir)) continue;
      // bwrap makes the missing parents of a bind mount 0700, root's: the agent could not pass
      // them to a repo cloned in a dir of a 0700 `mktemp -d` (or under a 0700 HOME).
      const parent = dirname(k);
      if (parent !== dir && !l.keep.some((o) => o !== k && within(parent, o))) {
        a.push("--perms", "0755", "--dir", parent);
      }
      a.push(...showAgain(k));
    }
  };
  // World-writable like a real /tmp: bwrap running as root would make it root's alone. A repo
  // checked out under /tmp (a CI clone) is shown again.
  hide("/tmp", "1777");
  // Before the hive root's mounts, so a root under HOME (~/.hyperhive) is rebuilt inside it.
  const home = l.home ? resolve(l.home) : undefined;
  if (home && home !== "/" && home !== "/tmp") hide(home);
  // Mount points bwrap creates as root are 0700 unless said otherwise: the agent must pass them.
  a.push("--perms", "0755", "--tmpfs", l.root);
  a.push("--perms", "0755", "--dir", join(l.root, "agents"));
  a.push("--perms", "0755", "--dir", dirname(state));
  a.push("--bind", state, state, "--bind", run, run, "--bind", paths.sharedDir, paths.sharedDir);
  if (l.identityFiles) {
    a.push("--ro-bind", l.identityFiles.passwd, "/etc/passwd");
    a.push("--ro-bind", l.identityFiles.group, "/etc/group");
  }
  a.push("--unshare-pid", "--die-with-parent", "--chdir", state);
  if (l.user.kind === "userns") {
    // No further namespaces inside: nothing to unmount the hiding tmpfs with.
    a.push("--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--", ...l.command);
  } else {
    a.push("--", ...setprivArgv(l.user), ...l.command);
  }
  return a;
}

/** `setpriv` as the agent: its uid and gid, no groups, no capabilities at all, no_new_privs. */
function setprivArgv(u: { uid: number; gid: number }): string[] {
  return [
    "setpriv",
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}

/** The user c0re's agents run as here: their own uid under root, else a user namespace. */
export function sandboxUserKind(): SandboxUser["kind"] {
  return process.getuid?.() === 0 ? "uid" : "userns";
}

export type SandboxProbe =
  | { usable: true; user: SandboxUser["kind"] }
  | { usable: false; reason: string };

/**
 * Whether bwrap works here: a trivial sandbox, set up the way agents' are, runs `true` as the
 * unprivileged user an agent would be. Synchronous and quick (one short child).
 */
export function probeSandbox(): SandboxProbe {
  const kind = sandboxUserKind();
  const user: SandboxUser =
    kind === "uid" ? { kind, uid: SANDBOX_UID_BASE, gid: SANDBOX_UID_BASE } : { kind };
  const base = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"];
  const tail =
    user.kind === "userns"
      ? ["--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--", "true"]
      : ["--", ...setprivArgv(user), "true"];
  const r = spawnSync("bwrap", [...base, "--unshare-pid", "--die-with-parent", ...tail], {
    encoding: "utf8",
    timeout: 10_000,
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (r.error) {
    const code = "code" in r.error ? r.error.code : undefined;
    const why = code === "ENOENT" ? "bwrap is not installed" : r.error.message;
    return { usable: false, reason: why };
  }
  if (r.status !== 0) {
    const why = (r.stderr ?? "").trim().split("\n")[0] || `exit ${r.status ?? r.signal}`;
    return { usable: false, reason: `bwrap cannot run a sandbox here: ${why}` };
  }
  return { usable: true, user: kind };
}

/**
 * `/etc/passwd` and `/etc/group` as the agent sees them: the host's plus a line for its uid, so
 * programs that look their user up (node's os.userInfo(), git, ssh) find one. Written into the
 * run dir (the host's files stay as they are); the home is the state dir.
 */
export function identityFileContents(
  name: AgentName,
  u: { uid: number; gid: number },
  home: string,
): { passwd: string; group: string } {
  const read = (p: string): string => {
    try {
      const t = readFileSync(p, "utf8");
      return t.endsWith("\n") || t === "" ? t : `${t}\n`;
    } catch {
      return "";
    }
  };
  const user = sandboxUserName(name);
  return {
    passwd: `${read("/etc/passwd")}${user}:x:${u.uid}:${u.gid}:hyperhive agent ${name}:${home}:/bin/sh\n`,
    group: `${read("/etc/group")}${user}:x:${u.gid}:\n`,
  };
}

/** The user name an agent's uid goes by inside its sandbox. */
export const sandboxUserName = (name: AgentName): string => `hive-${name}`;

/** chown of `dir` and everything in it (symlinks themselves, never their targets). */
export function chownTree(dir: string, uid: number, gid: number): void {
  const st = lstatSync(dir);
  if (st.uid !== uid || st.gid !== gid) chownSync(dir, uid, gid);
  if (!st.isDirectory()) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      chownTree(p, uid, gid);
      continue;
    }
    const f = lstatSync(p);
    // lchown: a link an agent planted must not hand it the file it points at.
    if (f.uid !== uid || f.gid !== gid) lchownSync(p, uid, gid);
  }
}

const UidRow = z.strictObject({ name: z.string(), uid: z.number().int() });

/** Ids taken in the host's /etc/passwd or /etc/group: never handed to an agent. */
function hostIds(): Set<number> {
  const ids = new Set<number>();
  for (const f of ["/etc/passwd", "/etc/group"]) {
    let t = "";
    try {
      t = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of t.split("\n")) {
      const id = Number(line.split(":")[2]);
      if (Number.isInteger(id)) ids.add(id);
    }
  }
  return ids;
}

/**
 * Each agent name's uid (and gid, the same number), kept in c0re's database: stable across
 * restarts and purges, never given to another name, never one the host's passwd or group uses.
 */
export class AgentUids {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  uidFor(name: AgentName): number {
    return this.#db.transaction((): number => {
      const row = this.#db.prepare("SELECT name, uid FROM agent_uids WHERE name = ?").get(name);
      if (row !== undefined) return UidRow.parse(row).uid;
      const max = z
        .strictObject({ m: z.number().int().nullable() })
        .parse(this.#db.prepare("SELECT max(uid) AS m FROM agent_uids").get()).m;
      const taken = hostIds();
      let uid = Math.max(max ?? SANDBOX_UID_BASE, SANDBOX_UID_BASE) + 1;
      while (taken.has(uid)) uid += 1;
      this.#db.prepare("INSERT INTO agent_uids (name, uid) VALUES (?, ?)").run(name, uid);
      return uid;
    })();
  }
}
