import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { IllegalStateError, Lifecycle } from "../src/lifecycle.js";
import { processAlive } from "../src/proc.js";
import { type ServiceProcess, spawnService, startService } from "../src/process.js";
import { tempDir } from "../src/testing/tmp.js";
import { waitUntil, withTimeout } from "../src/testing/wait.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const FIXTURE = join(FIXTURES, "service.mjs");

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

  it("SIGINT and SIGHUP do the same", async () => {
    for (const sig of ["SIGINT", "SIGHUP"] as const) {
      const p = await start();
      p.child.kill(sig);
      assert.deepEqual(await withTimeout(p.exited, 5000, "exit"), { code: 0, signal: null });
      assert.equal(stopped(p).length, 3);
      assert.match(p.output(), new RegExp(`"reason":"${sig}"`));
    }
  });

  it("stops by itself when its parent dies, even by SIGKILL (the lifeline)", async () => {
    const dir = tempDir("hive-lifeline-");
    try {
      const log = join(dir.path, "child.log");
      const parent = spawnService({
        command: process.execPath,
        args: [join(FIXTURES, "lifeline-parent.mjs"), log],
        readyTimeoutMs: 10_000,
      });
      const childPid = await withTimeout(
        (async () => {
          await waitUntil(() => /"child":\d+/.test(parent.output()), { what: "the child's pid" });
          return Number(/"child":(\d+)/.exec(parent.output())?.[1]);
        })(),
        15_000,
        "parent start",
      );
      assert.ok(processAlive(childPid));
      parent.child.kill("SIGKILL");
      await parent.exited;
      await waitUntil(() => !processAlive(childPid), { what: "the orphaned child to stop" });
      const text = readFileSync(log, "utf8");
      // Its stderr (the log) says why it stopped; its stdout went to the dead parent.
      assert.match(text, /"reason":"lifeline: parent process gone"/);
    } finally {
      dir.remove();
    }
  });

  it("a child started without a lifeline does not inherit its parent's", async () => {
    const p = await start({ HIVE_LIFELINE: "stdin" });
    assert.deepEqual(await p.ready, { ready: "fixture", pid: p.pid });
    assert.equal(processAlive(p.pid!), true);
    assert.equal(stopped(p).length, 0);
    await p.stop(5000);
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

describe("Lifecycle", () => {
  it("moves forward only; start and stop run once and return the same promise", async () => {
    const life = new Lifecycle("thing");
    const seen: string[] = [];
    assert.equal(life.state, "initialized");
    const started = life.start(async () => {
      seen.push(`start in ${life.state}`);
    });
    assert.equal(
      life.start(async () => void seen.push("again")),
      started,
    );
    await started;
    assert.equal(life.state, "running");
    assert.equal(life.running, true);
    assert.equal(life.signal.aborted, false);
    const stopping = life.stop(async () => {
      seen.push(`stop in ${life.state}, signal ${life.signal.aborted}`);
    });
    assert.equal(
      life.stop(async () => void seen.push("again")),
      stopping,
    );
    await stopping;
    assert.equal(life.state, "stopped");
    assert.deepEqual(seen, ["start in starting", "stop in stopping, signal true"]);
    await assert.rejects(
      life.start(async () => {}),
      (e: unknown) => {
        assert.ok(e instanceof IllegalStateError);
        assert.equal(e.message, "thing cannot start when stopped");
        return true;
      },
    );
  });

  it("a failed start is state failed, and stop still runs (to undo what was done)", async () => {
    const life = new Lifecycle("thing");
    await assert.rejects(
      life.start(async () => {
        throw new Error("no");
      }),
      /no/,
    );
    assert.equal(life.state, "failed");
    let undone = false;
    await life.stop(() => {
      undone = true;
    });
    assert.equal(undone, true);
    assert.equal(life.state, "stopped");
  });

  it("stop during a start waits for the start to settle first", async () => {
    const life = new Lifecycle("thing");
    const order: string[] = [];
    let finish = (): void => {};
    const started = life.start(
      () =>
        new Promise<void>((resolve) => {
          finish = () => {
            order.push("start done");
            resolve();
          };
        }),
    );
    const stopped = life.stop(() => {
      order.push("stop");
    });
    finish();
    await Promise.all([started, stopped]);
    assert.deepEqual(order, ["start done", "stop"]);
    assert.equal(life.state, "stopped");
  });
});
