import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentConfig, ErrorCode, HiveError } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ManagerClone } from "../src/manager-clone.js";
import { MetaRepo, renderConfig } from "../src/meta-repo.js";
import { silentLog } from "./rig.js";

/**
 * The meta repo and the manager's clone with real git: what c0re commits, what it accepts from
 * the manager and what it refuses, fast-forwards, and keeping the clone up to date.
 */
describe("meta repo (real git)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let meta: MetaRepo;
  let clone: ManagerClone;
  let cloneDir: string;
  const savedEnv = { ...process.env };

  /** git as the manager (or the test) runs it: a plain environment, a repo's own config. */
  const plainGit = (dir: string, args: string[]): string =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
    });
  const mgit = (...args: string[]): string => plainGit(cloneDir, args);
  const metaGit = (...args: string[]): string => plainGit(meta.dir, args).trim();
  /** Writes a file in the clone and commits it there; returns the commit's sha. */
  const commitInClone = (files: Record<string, string>, message = "change"): string => {
    for (const [path, text] of Object.entries(files)) writeFileSync(join(cloneDir, path), text);
    mgit("add", "--", ...Object.keys(files));
    mgit("commit", "-q", "-m", message);
    return mgit("rev-parse", "HEAD").trim();
  };
  const aliceWith = (model: string) =>
    renderConfig(AgentConfig.parse({ model, env: { MOOD: "calm" } }));
  const refused = (what: RegExp) => (e: unknown) =>
    HiveError.is(e, ErrorCode.BadRequest) && what.test(e.message);

  beforeAll(async () => {
    tmp = tempDir("c0re-meta-");
    // What the operator's shell and home might have set: none of it may reach c0re's git (a
    // commit that wants a gpg signature would fail).
    process.env.GIT_DIR = "/nonexistent";
    process.env.GIT_AUTHOR_NAME = "intruder";
    writeFileSync(join(tmp.path, ".gitconfig"), "[commit]\n\tgpgsign = true\n");
    process.env.HOME = tmp.path;
    meta = new MetaRepo({ dir: join(tmp.path, "meta"), log: silentLog, defaultModel: "sonnet" });
    cloneDir = join(tmp.path, "agents/manager/state/meta");
    clone = new ManagerClone({ metaDir: meta.dir, dir: cloneDir, log: silentLog });
  });

  afterAll(() => {
    process.env = savedEnv;
    tmp?.remove();
  });

  it("is created with the defaults and one file per agent, by c0re, whatever the caller's git setup", async () => {
    await meta.init(["manager"]);
    const defaults = readFileSync(join(meta.dir, "defaults/agent.json"), "utf8");
    assert.deepEqual(JSON.parse(defaults), {
      model: "sonnet",
      allowed_tools: ["Bash", "Edit", "Glob", "Grep", "Read", "TodoWrite", "Write"],
      extra_mcp_servers: {},
      env: {},
    });
    assert.equal(readFileSync(join(meta.dir, "agents/manager.json"), "utf8"), defaults);
    assert.equal(
      metaGit("log", "--format=%an <%ae>|%cn|%s"),
      "hyperhive c0re <c0re@hyperhive.invalid>|hyperhive c0re|meta: init (defaults/agent.json, agents/manager.json)",
    );
    assert.equal(metaGit("symbolic-ref", "HEAD"), "refs/heads/main");

    const head = await meta.head();
    await meta.init(["manager"]);
    assert.equal(await meta.head(), head, "nothing to add: no commit");
    await meta.init(["manager", "alice"]);
    assert.equal(metaGit("log", "-1", "--format=%s"), "meta: add agents/alice.json");
    assert.equal(readFileSync(join(meta.dir, "agents/alice.json"), "utf8"), defaults);

    const rc = await meta.runConfig("alice");
    assert.equal(rc.rev, await meta.head());
    assert.equal(rc.config.model, "sonnet");
    // Another agent's change moves main, not alice's rev (her /model override holds).
    const bobAdded = await meta.addAgent("bob");
    assert.equal((await meta.runConfig("alice")).rev, rc.rev);
    assert.equal((await meta.runConfig("bob")).rev, bobAdded);
    await assert.rejects(meta.runConfig("nobody"), (e: unknown) =>
      HiveError.is(e, ErrorCode.Internal),
    );
  });

  it("gives the manager a clone it can commit in, whose hooks and fsmonitor c0re never runs", async () => {
    await clone.ensure();
    assert.equal(mgit("config", "user.name").trim(), "manager");
    const defaults = readFileSync(join(meta.dir, "defaults/agent.json"), "utf8");
    assert.equal(readFileSync(join(cloneDir, "agents/alice.json"), "utf8"), defaults);
    // What a manager could plant for c0re to run: each writes a marker if it ever runs.
    const marker = join(tmp.path, "ran");
    const hook = join(cloneDir, ".git/hooks/post-merge");
    writeFileSync(hook, `#!/bin/sh\necho hook >> ${marker}\n`);
    chmodSync(hook, 0o755);
    const monitor = join(tmp.path, "monitor.sh");
    writeFileSync(monitor, `#!/bin/sh\necho fsmonitor >> ${marker}\n`);
    chmodSync(monitor, 0o755);
    mgit("config", "core.fsmonitor", monitor);

    await meta.addAgent("bob");
    await clone.sync();
    assert.ok(existsSync(join(cloneDir, "agents/bob.json")), "the clean clone was fast-forwarded");
    assert.equal(mgit("rev-parse", "HEAD").trim(), await meta.head());
    assert.equal(existsSync(marker), false, "no hook or fsmonitor of the clone ran");
    mgit("config", "--unset", "core.fsmonitor");
  });

  it("accepts a commit that changes only the agent's file, with its diff and a summary", async () => {
    const sha = commitInClone({ "agents/alice.json": aliceWith("haiku") });
    const base = await meta.head();
    for (const ref of [sha, "HEAD", "main", sha.slice(0, 10)]) {
      const p = await meta.propose(cloneDir, ref, "alice");
      assert.equal(p.commit, sha);
      assert.equal(p.base, base);
      assert.equal(
        p.summary,
        `config of alice (${sha.slice(0, 7)}): model sonnet -> haiku, env changed`,
      );
      assert.match(p.diff, /^diff --git a\/agents\/alice.json b\/agents\/alice.json$/m);
      assert.match(p.diff, /^- {2}"model": "sonnet",$/m);
      assert.match(p.diff, /^\+ {2}"model": "haiku",$/m);
    }
    assert.equal(metaGit("rev-parse", `refs/proposals/${sha}`), sha, "kept while it waits");
    assert.equal(await meta.head(), base, "main does not move before the approval");
  });

  it("refuses commits that touch another file, fail the schema, or are no change", async () => {
    mgit("reset", "-q", "--hard", "origin/main");
    const other = commitInClone({
      "agents/alice.json": aliceWith("opus"),
      "agents/bob.json": "{}\n",
    });
    await assert.rejects(
      meta.propose(cloneDir, other, "alice"),
      refused(/may change agents\/alice.json only, but it changes agents\/bob.json/),
    );
    await assert.rejects(
      meta.propose(cloneDir, other, "bob"),
      refused(/but it changes agents\/alice.json/),
    );
    mgit("reset", "-q", "--hard", "origin/main");
    const unknownKey = commitInClone({ "agents/alice.json": '{"model":"haiku","colour":"red"}\n' });
    await assert.rejects(
      meta.propose(cloneDir, unknownKey, "alice"),
      refused(/at .{7} is not a valid config: .*colour/),
    );
    const badModel = commitInClone({ "agents/alice.json": '{"model":"no spaces"}\n' });
    await assert.rejects(meta.propose(cloneDir, badModel, "alice"), refused(/model: a model name/));
    const notJson = commitInClone({ "agents/alice.json": "model: haiku\n" });
    await assert.rejects(meta.propose(cloneDir, notJson, "alice"), refused(/not JSON/));
    mgit("reset", "-q", "--hard", "origin/main");
    await assert.rejects(
      meta.propose(cloneDir, "HEAD", "alice"),
      refused(/changes nothing that is not on main/),
    );
    await assert.rejects(
      meta.propose(cloneDir, "no-such-branch", "alice"),
      refused(/no commit no-such-branch/),
    );
    await assert.rejects(
      meta.propose(cloneDir, "f".repeat(40), "alice"),
      refused(/could not fetch/),
    );
    await assert.rejects(
      meta.propose(join(tmp.path, "nowhere"), "HEAD", "alice"),
      refused(/no clone of meta/),
    );
  });

  it("fast-forwards main to an approved commit, and refuses once main has moved on", async () => {
    mgit("reset", "-q", "--hard", "origin/main");
    const sha = commitInClone({ "agents/alice.json": aliceWith("haiku") });
    await meta.propose(cloneDir, sha, "alice");
    assert.equal(await meta.fastForward(sha), true);
    assert.equal(await meta.head(), sha);
    assert.equal(
      readFileSync(join(meta.dir, "agents/alice.json"), "utf8"),
      aliceWith("haiku"),
      "work tree shows main",
    );
    assert.deepEqual(await meta.runConfig("alice"), {
      config: AgentConfig.parse(JSON.parse(aliceWith("haiku"))),
      rev: sha,
    });

    const later = commitInClone({ "agents/alice.json": aliceWith("opus") });
    await meta.propose(cloneDir, later, "alice");
    const moved = await meta.addAgent("carol");
    assert.equal(await meta.fastForward(later), false);
    assert.equal(await meta.head(), moved, "main stays where it moved");
  });

  it("keeps the manager's work: a dirty or diverged clone is fetched into, never moved", async () => {
    // The clone's main has the manager's commit `later` that meta never took: diverged.
    const mine = mgit("rev-parse", "HEAD").trim();
    await clone.sync();
    assert.equal(mgit("rev-parse", "HEAD").trim(), mine);
    assert.equal(mgit("rev-parse", "origin/main").trim(), await meta.head(), "fetched");
    // Back on meta's main but with an uncommitted edit: left alone too.
    mgit("reset", "-q", "--hard", "origin/main");
    writeFileSync(join(cloneDir, "agents/alice.json"), "{}\n");
    const removed = await meta.removeAgent("carol");
    assert.ok(removed);
    await clone.sync();
    assert.notEqual(mgit("rev-parse", "HEAD").trim(), removed);
    assert.equal(readFileSync(join(cloneDir, "agents/alice.json"), "utf8"), "{}\n");
    mgit("checkout", "-q", "--", "agents/alice.json");
    await clone.sync();
    assert.equal(mgit("rev-parse", "HEAD").trim(), removed, "clean again: fast-forwarded");
    assert.equal(existsSync(join(cloneDir, "agents/carol.json")), false);
    assert.equal(await meta.removeAgent("carol"), null, "nothing left to remove");
  });
});
