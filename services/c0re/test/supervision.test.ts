import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { processAlive as alive, retryPolicy } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import type { ProcessDriverOptions } from "../src/process-driver.js";
import { DEFAULT_RESTART_POLICY } from "../src/supervisor.js";
import { useDriverRigs } from "./rig.js";

/**
 * Supervision on a test clock: real child processes (the stand-in fixture) exit and start in
 * real time, but every restart delay passes only when the test moves the clock, so the real
 * production policy (0.5 s doubling to 30 s, reset after a minute up) is checked without waiting
 * for it.
 */
describe("supervisor: restarts with backoff on the clock", () => {
  const rigs = useDriverRigs("c0re-supervision-");

  /** A rig whose fixture reads its mode from a file the test can rewrite between starts. */
  function make(name: string, mode: string, opts: Partial<ProcessDriverOptions> = {}) {
    const modeFile = join(rigs.root(), `${name}.mode`);
    const setMode = (m: string) => writeFileSync(modeFile, m);
    setMode(mode);
    const rig = rigs.make({ baseEnv: { ...process.env, FIXTURE_MODE_FILE: modeFile }, ...opts });
    return { ...rig, setMode };
  }

  it("restarts a killed harness after 0.5 s, doubling to 30 s, and a minute up resets it", async () => {
    assert.deepEqual(DEFAULT_RESTART_POLICY, { initialMs: 500, factor: 2, maxMs: 30_000 });
    const { driver, clock, events, ...r } = make("carol", "ready");
    await r.start("carol");
    const delays: number[] = [];
    const kill = async (round: number): Promise<number> => {
      const before = r.readyInfo("carol", round);
      process.kill(before.pid, "SIGKILL");
      const { delayMs } = await r.nth("restarting", round + 1);
      assert.deepEqual(driver.status("carol"), { running: false, restartPending: true });
      // Not a moment early: one ms short of the delay, the restart is still pending.
      await clock.advance(delayMs - 1);
      assert.equal(clock.nextIn, 1);
      await clock.advance(1);
      const started = await r.nth("started", round + 2);
      assert.equal(started.automatic, true);
      assert.notEqual(r.readyInfo("carol", round + 1).pid, before.pid);
      await waitUntil(() => !alive(before.grandchild), { what: "the old group reaped" });
      return delayMs;
    };
    for (let round = 0; round < 7; round++) delays.push(await kill(round));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000]);
    // Up for a minute: healthy again, so the next crash waits the first delay.
    await clock.advance(60_000);
    assert.equal(await kill(7), 500);
    assert.equal(await kill(8), 1000);
    const exits = events.flatMap((e) => (e.kind === "exited" ? [e.detail] : []));
    assert.deepEqual(exits, Array(9).fill("signal SIGKILL"));
  });

  it("a harness that fails to start is retried on the backoff until it comes up", async () => {
    const { driver, clock, ...r } = make("gwen", "crash");
    await assert.rejects(r.start("gwen"), /exited before ready \(code 3\)/);
    for (const [i, expected] of [500, 1000, 2000].entries()) {
      const { delayMs } = await r.nth("restarting", i + 1);
      assert.equal(delayMs, expected);
      if (expected === 2000) r.setMode("ready");
      await clock.advance(delayMs);
    }
    const started = await r.nth("started", 1);
    assert.equal(started.automatic, true);
    assert.deepEqual(driver.status("gwen"), { running: true, restartPending: false });
    assert.equal(r.events.filter((e) => e.kind === "exited").length, 3);
  });

  it("gives up after the policy's maxAttempts failures in a row", async () => {
    const { driver, clock, ...r } = make("hal", "crash", {
      restartPolicy: retryPolicy({ initialMs: 100, factor: 2, maxMs: 1000, maxAttempts: 3 }),
    });
    await assert.rejects(r.start("hal"));
    await r.nth("restarting", 1);
    await clock.advance(100);
    await r.nth("restarting", 2);
    await clock.advance(200);
    await r.nth("exited", 3);
    assert.equal(clock.pending, 0, "no further restart scheduled");
    assert.deepEqual(driver.status("hal"), { running: false, restartPending: false });
    assert.equal(r.events.filter((e) => e.kind === "restarting").length, 2);
  });

  it("stop cancels a pending restart; a start meanwhile keeps it and does not start twice", async () => {
    const { driver, clock, ...r } = make("ike", "ready");
    await r.start("ike");
    process.kill(r.readyInfo("ike").pid, "SIGKILL");
    await r.nth("restarting", 1);
    // Already wanted and coming back: a start resolves without starting a second one.
    await driver.start({ name: "ike", role: "agent" });
    assert.deepEqual(driver.status("ike"), { running: false, restartPending: true });
    await driver.stop("ike");
    assert.deepEqual(driver.status("ike"), { running: false, restartPending: false });
    assert.equal(clock.pending, 0);
    await clock.advance(3_600_000);
    assert.equal(r.events.filter((e) => e.kind === "started").length, 1);
    assert.equal(r.upPid("ike"), r.readyInfo("ike").pid, "no process started after the first");
  });
});
