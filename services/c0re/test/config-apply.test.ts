import assert from "node:assert/strict";
import { lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentConfig, AgentRunConfig, ErrorCode, MANAGER } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { managerCloneDir } from "../src/manager-clone.js";
import { renderConfig } from "../src/meta-repo.js";
import { runConfigPath } from "../src/run-config.js";
import { calls, type Hive, hiveError, plainGit, startHive } from "./hive.js";

/**
 * Config changes through meta, end to end: the manager commits in its clone (real git), asks
 * for the commit to be applied, the operator approves the diff, and the agent's next turn uses
 * the new config; what is refused, what fails when meta moved on; and restart-all's order.
 */
describe("c0re: config changes from the manager's clone, and restart-all", () => {
  let hive: Hive;
  let call: ReturnType<typeof calls>;
  let clone: string;
  const metaDir = () => join(hive.root, "meta");
  const metaHead = () => plainGit(metaDir(), "rev-parse", "main");
  const runConfig = (name: string) =>
    AgentRunConfig.parse(JSON.parse(readFileSync(runConfigPath(hive.root, name), "utf8")));
  const told = (to: string, re: RegExp) =>
    waitUntil(
      () => hive.seen.mail.find((m) => m.to === to && m.from === "system" && re.test(m.preview)),
      { timeoutMs: 20_000, what: `a system message to ${to} matching ${re}` },
    );
  /** Edits files in the manager's clone and commits them there as the manager would. */
  const commit = (files: Record<string, string>): string => {
    for (const [path, text] of Object.entries(files)) writeFileSync(join(clone, path), text);
    plainGit(clone, "add", "--", ...Object.keys(files));
    plainGit(clone, "commit", "-q", "-m", "config change");
    return plainGit(clone, "rev-parse", "HEAD");
  };
  const config = (model: string) => renderConfig(AgentConfig.parse({ model }));
  /** Spawns `name` through an approval and waits until its harness is up (ready). */
  const spawned = async (name: string) => {
    await call.approve((await call.spawn(name)).id);
    await waitUntil(
      () => hive.seen.lifecycle.find((e) => e.agent === name && e.event === "started"),
      { timeoutMs: 30_000, what: `${name} started` },
    );
  };

  beforeAll(async () => {
    hive = await startHive("c0re-config-");
    call = calls(hive.nc);
    clone = managerCloneDir(hive.root);
    await spawned("alice");
    await waitUntil(() => plainGit(clone, "rev-parse", "HEAD") === metaHead(), {
      what: "the clone up to date with alice's spawn",
    });
  });
  afterAll(async () => {
    await hive?.stop();
  });

  it.runIf(process.getuid?.() === 0)(
    "under root the manager's clone stays the manager's: c0re's fetches leave nothing root-owned in it",
    async () => {
      const manager = statSync(join(hive.root, "agents", MANAGER, "state")).uid;
      assert.notEqual(manager, 0, "the manager runs as its own uid (bwrap driver)");
      // c0re has fetched into the clone since (alice's spawn moved meta's main).
      const owners = new Set<number>();
      const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, e.name);
          owners.add(lstatSync(p).uid);
          if (e.isDirectory()) walk(p);
        }
      };
      walk(clone);
      assert.deepEqual([...owners], [manager]);
    },
  );

  it("applies an approved commit of the manager's: main moves, alice restarts on it and its next turn uses the new model", async () => {
    const base = metaHead();
    const sha = commit({ "agents/alice.json": config("sonnet") });
    const asked = await call.applyCommit("alice", "HEAD");
    assert.equal(asked.kind, "apply_commit");
    assert.equal(asked.state, "pending");
    assert.equal(asked.summary, `config of alice (${sha.slice(0, 7)}): model haiku -> sonnet`);
    assert.ok(asked.kind === "apply_commit");
    assert.deepEqual(
      { ...asked.details, diff: "" },
      { agent: "alice", commit: sha, base, diff: "" },
    );
    assert.match(asked.details.diff, /^-\s+"model": "haiku",$/m);
    assert.match(asked.details.diff, /^\+\s+"model": "sonnet",$/m);
    assert.equal(metaHead(), base, "nothing moves before the operator says so");
    assert.equal(runConfig("alice").config.model, "haiku");

    await hive.model.clearRequests();
    const n = hive.seen.lifecycle.length;
    const approved = await call.approve(asked.id);
    assert.equal(approved.state, "approved");
    assert.equal(approved.note, "alice restarted with it");
    assert.equal(metaHead(), sha, "main fast-forwarded");
    assert.deepEqual(runConfig("alice"), {
      config: AgentConfig.parse(JSON.parse(config("sonnet"))),
      rev: sha,
    });
    const alices = () =>
      hive.seen.lifecycle
        .slice(n)
        .filter((e) => e.agent === "alice")
        .map((e) => [e.event, e.detail ?? ""]);
    // Lifecycle events are published on their own: the last may land after the reply.
    await waitUntil(() => alices().some(([e]) => e === "updated"), { what: "alice updated" });
    assert.deepEqual(alices(), [
      ["stopped", ""],
      ["started", ""],
      ["updated", `config ${sha.slice(0, 7)}`],
    ]);
    await told(
      MANAGER,
      new RegExp(
        `^approval #${asked.id} config of alice \\(${sha.slice(0, 7)}\\): approved; alice restarted with it$`,
      ),
    );
    assert.equal(plainGit(clone, "rev-parse", "origin/main"), sha, "the clone fetched it");
    // The turn on alice's restart notice goes to the model server with the new model, and its
    // harness says so in its state events.
    const turn = await waitUntil(
      async () => (await hive.model.requests()).find((r) => r.text.includes("agents/alice/state")),
      { timeoutMs: 30_000, what: "alice's first turn after the update" },
    );
    assert.match(turn.model ?? "", /sonnet/);
    await waitUntil(
      async () => (await call.agents()).find((a) => a.name === "alice")?.model === "sonnet",
      {
        timeoutMs: 20_000,
        what: "alice's model from its state events",
      },
    );
  });

  it("refuses at once a commit that touches another file, fails the schema, or names no active agent", async () => {
    const before = await call.approvals(true);
    const head = metaHead();
    const both = commit({
      "agents/alice.json": config("opus"),
      "agents/manager.json": config("opus"),
    });
    await assert.rejects(
      call.applyCommit("alice", both),
      hiveError(
        ErrorCode.BadRequest,
        /may change agents\/alice.json only, but it changes agents\/manager.json/,
      ),
    );
    plainGit(clone, "reset", "-q", "--hard", "origin/main");
    commit({ "agents/alice.json": '{"model": "opus", "tools": ["Bash"]}\n' });
    await assert.rejects(
      call.applyCommit("alice", "HEAD"),
      hiveError(ErrorCode.BadRequest, /not a valid config/),
    );
    await assert.rejects(
      call.applyCommit("nobody", "HEAD"),
      hiveError(ErrorCode.BadRequest, /no active agent named nobody/),
    );
    await assert.rejects(
      call.applyCommit("alice", "no-such-ref"),
      hiveError(ErrorCode.BadRequest, /no commit no-such-ref/),
    );
    plainGit(clone, "reset", "-q", "--hard", "origin/main");
    assert.deepEqual(await call.approvals(true), before, "nothing queued");
    assert.equal(metaHead(), head);
  });

  it("an approval whose commit meta has moved past fails, saying so, and changes nothing", async () => {
    const stale = commit({ "agents/alice.json": config("opus") });
    const asked = await call.applyCommit("alice", stale);
    plainGit(clone, "reset", "-q", "--hard", "origin/main");
    await spawned("carol"); // meta's main moves on: carol's config is committed
    const head = metaHead();
    const failed = await call.approve(asked.id);
    assert.deepEqual(
      [failed.state, failed.note],
      ["failed", "meta moved on; rebase and ask again"],
    );
    await told(
      MANAGER,
      new RegExp(
        `^approval #${asked.id} config of alice \\(${stale.slice(0, 7)}\\): failed: meta moved on; rebase and ask again$`,
      ),
    );
    assert.equal(metaHead(), head);
    assert.equal(runConfig("alice").config.model, "sonnet");
  });

  it("restart-all restarts the manager first, waits for it to be idle, then the others, and tells the manager", async () => {
    const n = hive.seen.lifecycle.length;
    const s = hive.seen.states.length;
    const first = call.restartAll();
    await assert.rejects(call.restartAll(), hiveError(ErrorCode.Conflict, /running already/));
    const r = await first;
    assert.deepEqual(r, { restarted: ["manager", "alice", "carol"], manager_idle: true });
    // Lifecycle events are published on their own: the last may land after the reply.
    const events = await waitUntil(
      () => {
        const seen = hive.seen.lifecycle.slice(n).map((e) => `${e.agent} ${e.event}`);
        return seen.includes("carol started") && seen.includes("alice started") ? seen : undefined;
      },
      { what: "every restarted agent's started event" },
    );
    const at = (what: string) => {
      const i = events.indexOf(what);
      assert.ok(i >= 0, `${what} in ${events.join(", ")}`);
      return i;
    };
    assert.ok(at("manager stopped") < at("manager started"));
    for (const other of ["alice", "carol"]) {
      assert.ok(at("manager started") < at(`${other} stopped`), events.join(", "));
      assert.ok(at(`${other} stopped`) < at(`${other} started`));
    }
    // The manager went through its turn on the restart notice before the others were touched.
    const managerStates = hive.seen.states
      .slice(s)
      .filter((e) => e.agent === MANAGER)
      .map((e) => e.state);
    assert.ok(
      managerStates.includes("thinking") && managerStates.includes("idle"),
      managerStates.join(", "),
    );
    await told(MANAGER, /^c0re: restart-all restarted, in this order: manager, alice, carol\.$/);
  });
});
