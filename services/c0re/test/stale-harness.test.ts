import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processAlive as alive, hivePaths, readProcStat } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { reapStaleHarness } from "../src/stale-harness.js";
import { silentLog, useDriverRigs } from "./rig.js";

/**
 * The second line of defence: a harness left behind by a c0re that died without stopping it
 * (the lifeline normally ends it first) is killed before its agent starts again, but only on
 * proof from /proc that it is that agent's harness.
 */
describe("stale harness reaping", () => {
  const rigs = useDriverRigs("c0re-reap-");
  const make = () => rigs.make();
  const runDir = (name: string) => hivePaths(rigs.root()).agentRunDir(name);
  const pidFile = (name: string) => join(runDir(name), "harness.pid");

  it("a new driver (after c0re died without stopping) kills the harness it left behind", async () => {
    // The first driver stands for the dead c0re: its restart timer never fires (its clock
    // stands still), and its lifeline holder (this process) lives on, so only reaping helps.
    const first = make();
    await first.start("gina");
    const old = first.readyInfo("gina");
    const second = make();
    await second.start("gina");
    const now = second.readyInfo("gina", 1);
    assert.notEqual(now.pid, old.pid);
    assert.equal(alive(old.pid), false);
    await waitUntil(() => !alive(old.grandchild), { timeoutMs: 3000, what: "old grandchild gone" });
    await second.driver.stop("gina");
    assert.equal(alive(now.pid), false);
    await first.driver.stop("gina"); // only cancels its pending restart
  });

  it("a pid file naming another agent's harness kills nothing", async () => {
    const r = make();
    await r.start("hank");
    const hank = r.readyInfo("hank");
    // ivy's harness is long gone and its pid now belongs to hank's: same program, same start
    // time as the pid file says, but another agent's run dir.
    mkdirSync(runDir("ivy"), { recursive: true });
    const ticks = readProcStat(hank.pid)?.startTicks;
    writeFileSync(pidFile("ivy"), JSON.stringify({ pid: hank.pid, start_ticks: ticks }));
    await r.start("ivy");
    assert.equal(alive(hank.pid), true, "hank's harness survived ivy's start");
    assert.equal(alive(hank.grandchild), true);
    assert.equal(r.driver.status("hank").running, true);
    assert.equal(r.readyInfo("ivy").env.HIVE_AGENT, "ivy");
  });

  it("a pid file whose start time does not match (a reused pid) kills nothing", async () => {
    const r = make();
    await r.start("jack");
    const jack = r.readyInfo("jack");
    const ticks = readProcStat(jack.pid)?.startTicks;
    assert.ok(ticks !== undefined);
    // Right pid, right run dir, but started at another time: not the process the file meant.
    writeFileSync(pidFile("jack"), JSON.stringify({ pid: jack.pid, start_ticks: ticks + 1 }));
    await reapStaleHarness(runDir("jack"), silentLog);
    assert.equal(alive(jack.pid), true);
    assert.equal(existsSync(pidFile("jack")), false, "the stale file is gone");
    // With the true start time it is this agent's harness, and it goes.
    writeFileSync(pidFile("jack"), JSON.stringify({ pid: jack.pid, start_ticks: ticks }));
    await reapStaleHarness(runDir("jack"), silentLog);
    assert.equal(alive(jack.pid), false);
  });

  it("an unreadable pid file is removed and kills nothing", async () => {
    mkdirSync(runDir("kim"), { recursive: true });
    for (const junk of ["", "1234\n", "{nope", JSON.stringify({ pid: 1, start_ticks: 0 })]) {
      writeFileSync(pidFile("kim"), junk);
      await reapStaleHarness(runDir("kim"), silentLog);
      assert.equal(existsSync(pidFile("kim")), false, `removed: ${JSON.stringify(junk)}`);
    }
  });
});
