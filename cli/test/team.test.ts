import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentConfig,
  ApprovalsListResponse,
  hivePaths,
  RestartAllResponse,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { z } from "zod";
import { SCRIPT } from "./manager-script.js";
import { useScriptedHive } from "./scripted-hive.js";

/**
 * The operator's commands of issue 6 against a real `hive up --offline` (nats-server, broker, c0re
 * with its meta repo, the manager's and alice's harnesses, the real claude on the model server,
 * web): a spawn asked by the manager and approved with `hive approve`, a denied one, the
 * controls of the manager's turn loop, the lifecycle, restart --all, destroy and purge.
 */
describe("the team through the hive CLI (hive up --offline, the real manager)", () => {
  // A cancelled turn is tried again after 1 s, not 5 (c0re hands the harness its environment).
  const h = useScriptedHive({
    prefix: "hive-cli-team-",
    script: SCRIPT,
    env: { HIVE_TURN_RETRY_SECONDS: "1" },
  });
  const { cli, json, logged, agent, reply, pendingSpawn } = h;

  it("the manager asks to spawn alice; hive approvals lists it; hive approve starts her; she answers", async () => {
    assert.equal((await cli("send", "manager", "spawn alice")).code, 0);
    const asked = await pendingSpawn("alice");
    assert.equal(asked.submitter, "manager");
    const table = await cli("approvals");
    assert.match(table.stdout, /^ID\s+KIND\s+SUBMITTER\s+SUMMARY\s+STATE\s+AGE$/m);
    assert.match(
      table.stdout,
      new RegExp(`^${asked.id}\\s+spawn\\s+manager\\s+spawn alice\\s+pending\\s+\\d+s ago$`, "m"),
    );
    const approved = await cli("approve", String(asked.id));
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(
      approved.stdout,
      `approval #${asked.id} spawn alice: approved; alice is starting\n`,
    );
    const twice = await cli("approve", String(asked.id), "--json");
    assert.equal(twice.code, 1);
    assert.equal(
      z.object({ error: z.object({ code: z.string() }) }).parse(JSON.parse(twice.stdout)).error
        .code,
      "conflict",
    );
    await waitUntil(async () => (await agent("alice"))?.running, {
      timeoutMs: 30_000,
      what: "alice running",
    });
    assert.equal((await cli("send", "alice", "ping-alice")).code, 0);
    await reply("alice", "pong: ping-alice");
    const list = await cli("agents");
    assert.match(list.stdout, /^alice\s+agent\s+haiku\s+/m);
  }, 150_000);

  it("a config change the manager committed: hive approvals --diff shows it; approved, alice's next turn uses it", async () => {
    // The manager's clone of meta (its state dir) has alice's file once her spawn is in main.
    const clone = join(hivePaths(h.root()).agentStateDir("manager"), "meta");
    const file = join(clone, "agents/alice.json");
    await waitUntil(() => existsSync(file), { timeoutMs: 30_000, what: "alice.json in the clone" });
    const config = AgentConfig.parse(JSON.parse(readFileSync(file, "utf8")));
    writeFileSync(file, `${JSON.stringify({ ...config, model: "sonnet" }, null, 2)}\n`);
    // safe.directory: under the bwrap driver the clone is the manager uid's, not ours.
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "safe.directory=*", ...args], {
        cwd: clone,
        encoding: "utf8",
      }).trim();
    git("commit", "-q", "-am", "alice on sonnet");
    const sha = git("rev-parse", "HEAD");
    assert.equal((await cli("send", "manager", `apply alice ${sha}`)).code, 0);
    const asked = await waitUntil(
      async () =>
        ApprovalsListResponse.parse(await json("approvals")).approvals.find(
          (a) => a.kind === "apply_commit" && a.details.commit === sha,
        ),
      { timeoutMs: 60_000, intervalMs: 300, what: "the manager's request_apply_commit" },
    );
    assert.ok(asked.kind === "apply_commit");
    const label = `config of alice (${sha.slice(0, 7)})`;
    const shown = await cli("approvals", "--diff");
    assert.match(shown.stdout, new RegExp(`^${asked.id}\\s+apply_commit\\s+manager\\s+`, "m"));
    assert.ok(
      shown.stdout.includes(
        `#${asked.id} ${label}: ${asked.details.base.slice(0, 7)}..${sha.slice(0, 7)}\n`,
      ),
      shown.stdout,
    );
    assert.match(shown.stdout, /^\+\s*"model": "sonnet",?$/m);
    assert.match(shown.stdout, /^-\s*"model": "haiku",?$/m);
    const approved = await cli("approve", String(asked.id));
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(
      approved.stdout,
      `approval #${asked.id} ${label}: approved; alice restarted with it\n`,
    );
    await waitUntil(async () => (await agent("alice"))?.model === "sonnet", {
      timeoutMs: 30_000,
      what: "alice on sonnet",
    });
    assert.equal((await cli("send", "alice", "after-config")).code, 0);
    await reply("alice", "pong: after-config");
    const turns = (await logged()).filter((q) => q.text.includes("after-config"));
    assert.ok(turns.length > 0);
    for (const q of turns) assert.match(q.model ?? "", /sonnet/, "alice's next turn used sonnet");
  }, 150_000);

  it("a denied spawn creates nothing", async () => {
    assert.equal((await cli("send", "manager", "spawn bob")).code, 0);
    const asked = await pendingSpawn("bob");
    const denied = await cli("deny", String(asked.id), "--reason", "one is enough");
    assert.equal(denied.code, 0, denied.stderr);
    assert.equal(denied.stdout, `approval #${asked.id} spawn bob: denied: one is enough\n`);
    const decided = ApprovalsListResponse.parse(await json("approvals", "--all")).approvals;
    assert.equal(decided.find((a) => a.id === asked.id)?.state, "denied");
    assert.equal(await agent("bob"), undefined);
    assert.equal(existsSync(hivePaths(h.root()).agentStateDir("bob")), false);
  }, 90_000);

  it("hive model, new-session, compact and cancel act on the manager's own turn loop", async () => {
    const set = await cli("model", "manager", "sonnet");
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "manager: model sonnet (was haiku); its next turn uses it\n");
    await waitUntil(async () => (await agent("manager"))?.model === "sonnet", {
      what: "the MODEL the manager's harness says",
    });
    assert.match((await cli("agents")).stdout, /^manager\s+manager\s+sonnet\s+/m);
    assert.equal((await cli("send", "manager", "after-model")).code, 0);
    await reply("manager", "pong: after-model");
    const asked = (await logged()).filter((q) => q.text.includes("after-model"));
    assert.ok(asked.length > 0);
    for (const q of asked) assert.match(q.model ?? "", /sonnet/, "the next turn used sonnet");

    const fresh = await cli("new-session", "manager");
    assert.equal(fresh.stdout, "manager: its next turn starts a fresh session\n");

    const compacted = await cli("compact", "manager");
    assert.equal(compacted.code, 0, compacted.stderr);
    assert.match(
      compacted.stdout,
      /^manager: compacting its session \(turn \S+, live on the dashboard\)\n$/,
    );
    await waitUntil(async () => (await logged()).some((q) => q.compact), {
      timeoutMs: 60_000,
      what: "claude's compaction request",
    });
    await waitUntil(async () => (await agent("manager"))?.state === "idle", {
      timeoutMs: 60_000,
      what: "the manager idle after compacting",
    });

    const idle = await cli("cancel", "manager");
    assert.equal(idle.stdout, "manager: no turn was running; nothing cancelled\n");
    assert.equal((await cli("send", "manager", "hold-me")).code, 0);
    await waitUntil(async () => (await logged()).some((q) => q.text.includes("hold-me")), {
      timeoutMs: 60_000,
      what: "the held turn at the model server",
    });
    const cancelled = await cli("cancel", "manager");
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /^manager: cancelled turn \S+; its message is tried again/);
    // Not lost: tried again, the prompt saying why, and answered this time.
    await reply("manager", "pong: hold-me");
    assert.ok(
      (await logged()).some((q) =>
        q.text.includes("the operator cancelled the previous turn on this message"),
      ),
    );
  }, 240_000);

  it("hive kill and start alice; hive restart --all restarts the manager first", async () => {
    const before = (await agent("alice"))?.starts ?? 0;
    const killed = await cli("kill", "alice");
    assert.equal(killed.stdout, "stopped alice; it stays stopped until: hive start alice\n");
    assert.equal((await agent("alice"))?.running, false);
    const started = await cli("start", "alice");
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, `started alice (start #${before + 1})\n`);
    const all = RestartAllResponse.parse(await json("restart", "--all"));
    assert.deepEqual(all, { restarted: ["manager", "alice"], manager_idle: true });
  }, 200_000);

  it("hive destroy leaves a tombstone; hive purge frees the name", async () => {
    const destroyed = await cli("destroy", "alice");
    assert.equal(destroyed.code, 0, destroyed.stderr);
    const stateDir = hivePaths(h.root()).agentStateDir("alice");
    assert.equal(
      destroyed.stdout,
      `destroyed alice: a tombstone now, its state dir kept (${stateDir}); hive purge alice deletes it\n`,
    );
    assert.doesNotMatch((await cli("agents")).stdout, /^alice/m);
    assert.match((await cli("agents", "--all")).stdout, /^alice\s+agent\s+\S+\s+tombstone\s+/m);
    assert.equal(existsSync(stateDir), true, "its state dir is kept");
    const unconfirmed = await cli("purge", "alice");
    assert.equal(unconfirmed.code, 2, "no terminal: --yes is needed");
    assert.equal(existsSync(stateDir), true);
    const purged = await cli("purge", "alice", "--yes");
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(purged.stdout, `purged alice: deleted ${stateDir}; the name is free\n`);
    assert.equal(existsSync(stateDir), false);
    assert.equal(await agent("alice"), undefined);
    // The name is free: the manager may ask for it again.
    assert.equal((await cli("send", "manager", "spawn alice")).code, 0);
    const again = await pendingSpawn("alice");
    assert.equal(again.state, "pending");
  }, 120_000);
});
