import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentConfig,
  AgentRunConfig,
  decodeJson,
  ErrorCode,
  ErrorReply,
  encodeJson,
  hivePaths,
  readProcEnviron,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { managerCloneDir } from "../src/manager-clone.js";
import { runConfigPath } from "../src/run-config.js";
import { calls, type Hive, harnessPids, hiveError, plainGit, startHive, TEST_REV } from "./hive.js";

/**
 * The team as c0re runs it, with real NATS, broker, harnesses, claude (on the model server) and
 * git: meta at boot, spawns through approvals, the manager's lifecycle verbs and who may use
 * them, malformed payloads, destroy and purge.
 */
describe("c0re's team: spawn approvals, manager verbs, tombstones", () => {
  let hive: Hive;
  let call: ReturnType<typeof calls>;
  let root: string;
  const metaDir = () => join(root, "meta");
  const metaHead = () => plainGit(metaDir(), "rev-parse", "main");
  const find = async (name: string, all = false) =>
    (await call.agents(all)).find((a) => a.name === name);
  /** Waits for a system message to `to` whose preview matches `re`. */
  const told = (to: string, re: RegExp) =>
    waitUntil(
      () => hive.seen.mail.find((m) => m.to === to && m.from === "system" && re.test(m.preview)),
      {
        timeoutMs: 20_000,
        what: `a system message to ${to} matching ${re}`,
      },
    );

  beforeAll(async () => {
    hive = await startHive("c0re-team-");
    call = calls(hive.nc);
    root = hive.root;
  });
  afterAll(async () => {
    await hive?.stop();
  });

  it("creates meta at boot, hands the manager its run config and a clone, and passes HYPERHIVE_REV on", async () => {
    const defaults = AgentConfig.parse(
      JSON.parse(readFileSync(join(metaDir(), "defaults/agent.json"), "utf8")),
    );
    assert.equal(defaults.model, "haiku", "c0re's HIVE_MODEL");
    const rc = AgentRunConfig.parse(
      JSON.parse(readFileSync(runConfigPath(root, "manager"), "utf8")),
    );
    assert.deepEqual(rc, { config: defaults, rev: metaHead() });
    const clone = managerCloneDir(root);
    assert.equal(plainGit(clone, "rev-parse", "HEAD"), metaHead());
    assert.equal(plainGit(clone, "config", "user.name"), "manager");
    const [pid] = harnessPids(hive.c0re);
    assert.ok(pid);
    assert.equal(readProcEnviron(pid)?.get("HYPERHIVE_REV"), TEST_REV);
    assert.equal(readProcEnviron(pid)?.get("HIVE_SHARED_DIR"), hivePaths(root).sharedDir);
    // The model its next turn uses, as its harness says in its state events.
    await waitUntil(async () => (await find("manager"))?.model === "haiku", {
      timeoutMs: 20_000,
      what: "the manager's model from its state events",
    });
  });

  it("queues a spawn for the operator; approved, alice is created, started, greeted, and the manager told", async () => {
    const asked = await call.spawn("alice");
    assert.equal(asked.kind, "spawn");
    assert.equal(asked.state, "pending");
    assert.equal(asked.summary, "spawn alice");
    assert.deepEqual(asked.details, { name: "alice" });
    await waitUntil(() => hive.seen.approvals.some((e) => e.approval.id === asked.id), {
      what: "approval event",
    });
    assert.deepEqual(await call.approvals(), [asked]);
    // While it waits, the name is on the roster: mail may be queued for it.
    await waitUntil(() => hive.seen.rosters.at(-1)?.agents.includes("alice"), {
      what: "alice on the roster",
    });
    await call.send("alice", "hello alice");
    await assert.rejects(
      call.spawn("alice"),
      hiveError(ErrorCode.Conflict, /waiting for the operator already \(approval #1\)/),
    );
    await assert.rejects(
      call.spawn("manager"),
      hiveError(ErrorCode.Conflict, /agent named manager already/),
    );
    assert.equal(await find("alice"), undefined, "nothing is created before the approval");

    const approved = await call.approve(asked.id);
    assert.equal(approved.state, "approved");
    assert.equal(approved.note, "alice is starting");
    assert.equal(approved.decided_by, "operator");
    assert.deepEqual(
      hive.seen.approvals.filter((e) => e.approval.id === asked.id).map((e) => e.approval.state),
      ["pending", "approved"],
    );
    await told("manager", /^approval #1 spawn alice: approved; alice is starting$/);
    const alice = await waitUntil(
      async () => {
        const a = await find("alice");
        return a?.running && a.starts === 1 ? a : undefined;
      },
      { timeoutMs: 30_000, what: "alice running" },
    );
    assert.equal(alice.role, "agent");
    assert.equal(alice.state_dir, hivePaths(root).agentStateDir("alice"));
    const events = hive.seen.lifecycle.filter((e) => e.agent === "alice").map((e) => e.event);
    assert.deepEqual(events.slice(0, 2), ["created", "started"]);
    await told("alice", /^c0re: you were just started for the first time/);
    // Its config is meta's defaults, committed by c0re, handed to it and in the manager's clone.
    const file = readFileSync(join(metaDir(), "agents/alice.json"), "utf8");
    assert.equal(file, readFileSync(join(metaDir(), "defaults/agent.json"), "utf8"));
    assert.equal(plainGit(metaDir(), "log", "-1", "--format=%s"), "spawn alice: defaults");
    const rc = AgentRunConfig.parse(JSON.parse(readFileSync(runConfigPath(root, "alice"), "utf8")));
    assert.equal(rc.rev, metaHead());
    await waitUntil(() => existsSync(join(managerCloneDir(root), "agents/alice.json")), {
      what: "the clone brought up to date",
    });
    // Alive for real: the mail queued while it waited is answered by its claude.
    await waitUntil(
      () =>
        hive.seen.mail.find(
          (m) => m.to === "operator" && m.from === "alice" && m.preview === "pong: hello alice",
        ),
      { timeoutMs: 45_000, what: "alice answering the operator" },
    );
  });

  it("refuses to decide twice, or an unknown approval, changing nothing", async () => {
    const before = hive.seen.approvals.length;
    await assert.rejects(
      call.approve(1),
      hiveError(ErrorCode.Conflict, /decided already \(approved\)/),
    );
    await assert.rejects(call.deny(1), hiveError(ErrorCode.Conflict));
    await assert.rejects(call.approve(99), hiveError(ErrorCode.NotFound, /no approval #99/));
    await assert.rejects(call.deny(99, "no"), hiveError(ErrorCode.NotFound));
    assert.equal((await call.approvals(true)).length, 1);
    assert.equal(hive.seen.approvals.length, before);
  });

  it("a denied spawn creates nothing and tells the manager why", async () => {
    const bob = await call.spawn("bob");
    await waitUntil(() => hive.seen.rosters.at(-1)?.agents.includes("bob"), {
      what: "bob on the roster",
    });
    const denied = await call.deny(bob.id, "not now");
    assert.deepEqual([denied.state, denied.note], ["denied", "not now"]);
    await told("manager", new RegExp(`^approval #${bob.id} spawn bob: denied: not now$`));
    const dan = await call.spawn("dan");
    await call.deny(dan.id);
    await told("manager", new RegExp(`^approval #${dan.id} spawn dan: denied: no reason given$`));
    await waitUntil(
      () => {
        const r = hive.seen.rosters.at(-1)?.agents;
        return r && !r.includes("bob") && !r.includes("dan");
      },
      { what: "bob and dan off the roster" },
    );
    assert.equal(await find("bob", true), undefined);
    assert.equal(existsSync(join(metaDir(), "agents/bob.json")), false);
    assert.equal(existsSync(hivePaths(root).agentStateDir("bob")), false);
    assert.deepEqual((await call.approvals()).length, 0, "nothing pending");
    assert.deepEqual(
      (await call.approvals(true)).map((a) => [a.id, a.state]),
      [
        [dan.id, "denied"],
        [bob.id, "denied"],
        [1, "approved"],
      ],
    );
    // Denied: the name may be asked for again.
    const again = await call.spawn("bob");
    await call.deny(again.id, "still no");
  });

  it("the manager kills, starts, restarts and updates alice at its discretion; not itself, not the unknown", async () => {
    const killed = await call.verb("kill", "alice");
    assert.equal(killed.running, false);
    await assert.rejects(
      call.verb("kill", "alice"),
      hiveError(ErrorCode.Conflict, /already stopped/),
    );
    const started = await call.verb("start", "alice");
    assert.equal(started.running, true);
    await assert.rejects(
      call.verb("start", "alice"),
      hiveError(ErrorCode.Conflict, /already running/),
    );
    const restarted = await call.verb("restart", "alice");
    assert.equal(restarted.starts, started.starts + 1);
    const n = hive.seen.lifecycle.length;
    const updated = await call.verb("update", "alice");
    assert.equal(updated.running, true);
    const update = await waitUntil(
      () => hive.seen.lifecycle.slice(n).find((e) => e.agent === "alice" && e.event === "updated"),
      { what: "updated event" },
    );
    assert.equal(update.detail, `config ${metaHead().slice(0, 7)}`);
    assert.deepEqual(
      hive.seen.lifecycle
        .slice(n)
        .filter((e) => e.agent === "alice")
        .map((e) => e.event),
      ["stopped", "started", "updated"],
    );
    for (const verb of ["kill", "start", "restart", "update"] as const) {
      await assert.rejects(
        call.verb(verb, "manager"),
        hiveError(ErrorCode.Forbidden, /the manager's own lifecycle is the operator's/),
      );
      await assert.rejects(
        call.verb(verb, "nobody"),
        hiveError(ErrorCode.NotFound, /no agent named nobody/),
      );
    }
  });

  it("refuses every manager verb from anyone but the manager, and malformed payloads on every new subject", async () => {
    const snapshot = async () => ({
      agents: (await call.agents(true)).map(({ name, starts, running, tombstoned_at }) => ({
        name,
        starts,
        running,
        tombstoned_at,
      })),
      approvals: (await call.approvals(true)).map((a) => [a.id, a.state]),
      lifecycle: hive.seen.lifecycle.length,
      approvalEvents: hive.seen.approvals.length,
      head: metaHead(),
    });
    const before = await snapshot();
    for (const caller of ["alice", "zed"]) {
      const forbidden = hiveError(
        ErrorCode.Forbidden,
        new RegExp(`only the manager may .* \\(you are ${caller}\\)`),
      );
      await assert.rejects(call.spawn("erin", caller), forbidden);
      for (const verb of ["kill", "start", "restart", "update"] as const) {
        await assert.rejects(call.verb(verb, "alice", caller), forbidden);
      }
      await assert.rejects(call.applyCommit("alice", "HEAD", caller), forbidden);
    }
    const m = "manager";
    /** Per subject: an unknown field and a wrong type, on top of a valid payload. */
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [subjects.agent.spawn(m), { name: "erin" }, { name: 7 }],
      [subjects.agent.kill(m), { name: "alice" }, { name: ["alice"] }],
      [subjects.agent.start(m), { name: "alice" }, { name: null }],
      [subjects.agent.restart(m), { name: "alice" }, { name: "Alice!" }],
      [subjects.agent.update(m), { name: "alice" }, { name: 1 }],
      [
        subjects.agent.applyCommit(m),
        { agent: "alice", commit_ref: "HEAD" },
        { agent: "alice", commit_ref: "-x" },
      ],
      [subjects.op.agentDestroy, { name: "alice" }, { name: false }],
      [subjects.op.agentPurge, { name: "alice", confirm: "alice" }, { name: "alice", confirm: 1 }],
      [subjects.op.restartAll, {}, { all: true }],
      [subjects.op.approvals, { all: true }, { all: "yes" }],
      [subjects.op.approve, { id: 1 }, { id: "1" }],
      [subjects.op.deny, { id: 1, reason: "x" }, { id: 1, reason: 5 }],
      [subjects.op.agents, { all: true }, { all: 1 }],
    ];
    for (const [subject, valid, wrongType] of cases) {
      for (const payload of [
        "not json",
        encodeJson({ ...valid, by: "someone" }),
        encodeJson(wrongType),
      ]) {
        const reply = ErrorReply.safeParse(
          decodeJson((await hive.nc.request(subject, payload, { timeout: 5000 })).data),
        );
        assert.equal(reply.data?.error.code, ErrorCode.BadRequest, `${subject} ${String(payload)}`);
      }
    }
    assert.deepEqual(await snapshot(), before);
  });

  it("destroy leaves a tombstone; purge, confirmed, deletes it and frees the name", async () => {
    await assert.rejects(
      call.destroy("manager"),
      hiveError(ErrorCode.Forbidden, /manager cannot be destroyed/),
    );
    await assert.rejects(call.destroy("nobody"), hiveError(ErrorCode.NotFound));
    const stateDir = hivePaths(root).agentStateDir("alice");
    const n = hive.seen.lifecycle.length;
    const gone = await call.destroy("alice");
    assert.equal(gone.running, false);
    assert.ok(gone.tombstoned_at);
    const alices = () =>
      hive.seen.lifecycle
        .slice(n)
        .filter((e) => e.agent === "alice")
        .map((e) => e.event);
    // Lifecycle events are published on their own: the last may land after the reply.
    await waitUntil(() => alices().includes("destroyed"), { what: "alice destroyed" });
    assert.deepEqual(alices(), ["stopped", "destroyed"]);
    assert.equal(await find("alice"), undefined, "off the active list");
    assert.equal(
      (await find("alice", true))?.tombstoned_at,
      gone.tombstoned_at,
      "listed with --all",
    );
    assert.ok(existsSync(stateDir), "its state dir is kept");
    assert.equal(existsSync(hivePaths(root).agentRunDir("alice")), false);
    await waitUntil(() => !hive.seen.rosters.at(-1)?.agents.includes("alice"), {
      what: "alice off the roster",
    });
    await assert.rejects(call.send("alice", "are you there?"), hiveError(ErrorCode.NotFound));
    await assert.rejects(call.destroy("alice"), hiveError(ErrorCode.Conflict, /destroyed already/));
    await assert.rejects(
      call.verb("start", "alice"),
      hiveError(ErrorCode.Conflict, /was destroyed/),
    );
    await assert.rejects(
      call.spawn("alice"),
      hiveError(ErrorCode.Conflict, /free again once the operator purges it/),
    );

    await assert.rejects(
      call.purge("alice", "alicia"),
      hiveError(ErrorCode.BadRequest, /confirm must be the agent's name \(alice\)/),
    );
    await assert.rejects(
      call.purge("manager", "manager"),
      hiveError(ErrorCode.Conflict, /destroy it first/),
    );
    await assert.rejects(call.purge("nobody", "nobody"), hiveError(ErrorCode.NotFound));
    assert.ok(existsSync(stateDir), "nothing purged by the refusals");
    const purged = await call.purge("alice", "alice");
    assert.deepEqual(purged, { name: "alice", state_dir: stateDir });
    assert.equal(existsSync(join(root, "agents/alice")), false);
    assert.equal(existsSync(join(root, "logs/alice.log")), false);
    assert.equal(existsSync(join(metaDir(), "agents/alice.json")), false);
    assert.equal(plainGit(metaDir(), "log", "-1", "--format=%s"), "purge alice");
    assert.equal(await find("alice", true), undefined);
    await waitUntil(
      () => hive.seen.lifecycle.find((e) => e.agent === "alice" && e.event === "purged"),
      { what: "purged event" },
    );
    // The name is free: a spawn of it is taken again.
    const again = await call.spawn("alice");
    assert.equal(again.state, "pending");
  });
});
