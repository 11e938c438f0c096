import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { type ServiceProcess, startService } from "../src/process.js";
import { waitUntil, withTimeout } from "../src/testing/wait.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures/service.mjs");

function start(env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startService({
    name: "fixture",
    command: process.execPath,
    args: [FIXTURE],
    env: { ...process.env, HIVE_LOG_LEVEL: "info", ...env },
    readyTimeoutMs: 10_000,
  });
}

/** The `{"stopped":...}` lines the fixture printed, in order. */
function stopped(p: ServiceProcess): { stopped: string; sigterm_listeners: number }[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith('{"stopped"'))
    .map((l) => JSON.parse(l) as { stopped: string; sigterm_listeners: number });
}

describe("runService (a real child process)", () => {
  it("prints the ready line with the start details", async () => {
    const p = await start();
    const ready = await p.ready;
    assert.deepEqual(ready, { ready: "fixture", pid: p.pid });
    await p.stop(5000);
  });

  it("SIGTERM runs the cleanups newest first and exits 0", async () => {
    const p = await start();
    p.child.kill("SIGTERM");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 0, signal: null });
    assert.deepEqual(
      stopped(p).map((s) => s.stopped),
      ["c", "b", "a"],
    );
    assert.match(p.output(), /"msg":"stopping"/);
  });

  it("SIGINT does the same", async () => {
    const p = await start();
    p.child.kill("SIGINT");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 0, signal: null });
    assert.equal(stopped(p).length, 3);
  });

  it("keeps a SIGTERM listener during the stop; a second signal neither kills nor restarts it", async () => {
    const p = await start({ FIXTURE_STOP: "slow" });
    p.child.kill("SIGTERM");
    await waitUntil(() => stopped(p).some((s) => s.stopped === "c"), { what: "step c" });
    p.child.kill("SIGTERM");
    p.child.kill("SIGINT");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 0, signal: null });
    const steps = stopped(p);
    assert.deepEqual(
      steps.map((s) => s.stopped),
      ["c", "b", "a"],
    );
    for (const s of steps) assert.ok(s.sigterm_listeners >= 1, JSON.stringify(s));
  });

  it("a failing cleanup does not skip the others; exit 1", async () => {
    const p = await start({ FIXTURE_STOP: "fail" });
    p.child.kill("SIGTERM");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 1, signal: null });
    assert.deepEqual(
      stopped(p).map((s) => s.stopped),
      ["c", "a"],
    );
    assert.match(p.output(), /b failed on purpose/);
  });

  it("a stop that hangs is cut short by the force-exit timer with exit 1", async () => {
    const p = await start({ FIXTURE_STOP: "hang", FIXTURE_FORCE_MS: "500" });
    const t = performance.now();
    p.child.kill("SIGTERM");
    assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 1, signal: null });
    assert.ok(performance.now() - t >= 400, "exited before the force-exit time");
    assert.match(p.output(), /graceful stop took too long/);
  });

  it("a failed start undoes what it did, prints no ready line and rejects", async () => {
    await assert.rejects(
      start({ FIXTURE_START: "fail" }),
      (e: Error) =>
        /exited before ready \(code 1\)/.test(e.message) &&
        /start failed on purpose/.test(e.message) &&
        /"stopped":"a"/.test(e.message),
    );
  });
});
