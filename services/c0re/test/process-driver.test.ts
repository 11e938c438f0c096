import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { processAlive as alive, hivePaths, readProcStat } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { HarnessStartError } from "../src/driver.js";
import type { ProcessDriverOptions } from "../src/process-driver.js";
import { useDriverRigs } from "./rig.js";

describe("process driver (with a stand-in child program)", () => {
  const rigs = useDriverRigs("c0re-driver-");
  const make = (opts: Partial<ProcessDriverOptions> = {}, mode = "ready") => rigs.make(opts, mode);

  it("starts a detached child on a lifeline with the env contract and waits for its ready line", async () => {
    const { driver, events, ...r } = make();
    await r.start("alice");
    assert.deepEqual(driver.status("alice"), { running: true, restartPending: false });
    const info = r.readyInfo("alice");
    assert.deepEqual(info.argv, ["serve"]);
    const paths = hivePaths(rigs.root());
    assert.equal(info.cwd, paths.agentStateDir("alice"));
    const { env } = info;
    assert.deepEqual(
      {
        HIVE_AGENT: env.HIVE_AGENT,
        HIVE_ROLE: env.HIVE_ROLE,
        NATS_URL: env.NATS_URL,
        HIVE_ROOT: env.HIVE_ROOT,
        HIVE_STATE_DIR: env.HIVE_STATE_DIR,
        HIVE_SHARED_DIR: env.HIVE_SHARED_DIR,
        HIVE_RUN_DIR: env.HIVE_RUN_DIR,
        HIVE_PROMPTS_DIR: env.HIVE_PROMPTS_DIR,
        HIVE_CLAUDE_BIN: env.HIVE_CLAUDE_BIN,
        HIVE_MODEL: env.HIVE_MODEL,
        HIVE_LIFELINE: env.HIVE_LIFELINE,
        ANTHROPIC_BASE_URL: env.ANTHROPIC_BASE_URL,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC,
      },
      {
        HIVE_AGENT: "alice",
        HIVE_ROLE: "agent",
        NATS_URL: "nats://127.0.0.1:1",
        HIVE_ROOT: rigs.root(),
        HIVE_STATE_DIR: paths.agentStateDir("alice"),
        HIVE_SHARED_DIR: paths.sharedDir,
        HIVE_RUN_DIR: paths.agentRunDir("alice"),
        HIVE_PROMPTS_DIR: "/prompts",
        HIVE_CLAUDE_BIN: "/bin/claude-x",
        HIVE_MODEL: "haiku",
        // stdin is a pipe only c0re holds: when c0re dies, however, the harness sees EOF.
        HIVE_LIFELINE: "stdin",
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
    );
    assert.ok((env.ANTHROPIC_API_KEY ?? "").length > 0, "a placeholder key is set");
    assert.equal(env.C0RE_DB, undefined, "c0re's own settings are not passed on");
    // The child leads its own process group, and the pid file pins it by its start time.
    const stat = readProcStat(info.pid);
    assert.equal(stat?.pgrp, info.pid);
    const pidFile: unknown = JSON.parse(
      readFileSync(join(paths.agentRunDir("alice"), "harness.pid"), "utf8"),
    );
    assert.deepEqual(pidFile, { pid: info.pid, start_ticks: stat?.startTicks });
    assert.match(r.log("alice"), /^--- \S+ c0re starting alice \(agent\) ---$/m);
    assert.match(r.log("alice"), /fixture: up as pid/);
    assert.deepEqual(
      events.map((e) => e.kind),
      ["started"],
    );
  });

  it("stop kills the whole process group, grandchildren included, and removes the pid file", async () => {
    const { driver, events, ...r } = make();
    await r.start("bob");
    const info = r.readyInfo("bob");
    assert.ok(alive(info.grandchild));
    await driver.stop("bob");
    assert.equal(driver.status("bob").running, false);
    assert.equal(alive(info.pid), false);
    await waitUntil(() => !alive(info.grandchild), { timeoutMs: 3000, what: "grandchild gone" });
    assert.throws(() =>
      readFileSync(join(hivePaths(rigs.root()).agentRunDir("bob"), "harness.pid")),
    );
    assert.deepEqual(
      events.map((e) => e.kind),
      ["started", "stopped"],
    );
    await driver.stop("bob"); // idempotent
    assert.equal(events.length, 2);
  });

  it("a child that never says ready fails the start with its log tail and is killed; a stop ends the retries", async () => {
    const { driver, events, clock, ...r } = make({ readyTimeoutMs: 500 }, "no-ready");
    await assert.rejects(r.start("dave"), (e: unknown) => {
      assert.ok(e instanceof HarnessStartError);
      assert.match(e.message, /no ready line within 500 ms/);
      assert.match(e.message, /fixture: up as pid/, "the error carries the log tail");
      return true;
    });
    const pid = r.upPid("dave");
    assert.ok(pid);
    assert.equal(alive(pid), false);
    assert.deepEqual(driver.status("dave"), { running: false, restartPending: true });
    assert.equal(clock.nextIn, 500, "the retry waits on the clock");
    await driver.stop("dave");
    assert.deepEqual(driver.status("dave"), { running: false, restartPending: false });
    assert.equal(clock.pending, 0);
    assert.deepEqual(
      events.map((e) => e.kind),
      ["exited", "restarting"],
    );
  });

  it("stop during a start ends it at once instead of waiting out the ready deadline", async () => {
    const { driver, events, ...r } = make({ readyTimeoutMs: 20_000 }, "no-ready");
    const starting = r.start("jo");
    const rejected = assert.rejects(starting, /start of jo cancelled: stopped/);
    const pid = await waitUntil(() => r.upPid("jo"), { what: "the child running" });
    const t0 = Date.now();
    await driver.stop("jo");
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    await rejected;
    assert.equal(alive(pid), false);
    assert.deepEqual(driver.status("jo"), { running: false, restartPending: false });
    // Stopped, not failed: no exit to report and nothing to retry.
    assert.deepEqual(
      events.map((e) => e.kind),
      ["stopped"],
    );
  });

  it("a crashing child is reported with its exit code", async () => {
    const { driver, events, ...r } = make({}, "crash");
    await assert.rejects(r.start("erin"), /exited before ready \(code 3\)/);
    const exited = events.find((e) => e.kind === "exited");
    assert.match(exited?.kind === "exited" ? exited.detail : "", /code 3/);
    await driver.stop("erin");
  });

  it("stop SIGKILLs a child that ignores SIGTERM after the grace time", async () => {
    const { driver, ...r } = make({ stopGraceMs: 300 }, "ignore-term");
    await r.start("frank");
    const info = r.readyInfo("frank");
    const t0 = Date.now();
    await driver.stop("frank");
    assert.ok(Date.now() - t0 >= 300);
    assert.equal(alive(info.pid), false);
    assert.match(r.log("frank"), /ignoring SIGTERM/);
  });
});
