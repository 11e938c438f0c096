import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { groupAlive, processAlive } from "../src/proc.js";
import { ServiceStartError, spawnService, startService } from "../src/process.js";
import { tempDir } from "../src/testing/tmp.js";
import { withTimeout } from "../src/testing/wait.js";

/** A node script: optional grandchild in its group, a ready line, then stays up. */
function script(o: { ready?: string; ignoreTerm?: boolean; exitCode?: number } = {}): string {
  return [
    o.exitCode !== undefined ? `console.error("bye"); process.exit(${o.exitCode});` : "",
    o.ignoreTerm ? `process.on("SIGTERM", () => console.error("ignoring SIGTERM"));` : "",
    `const g = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" });`,
    `console.log("not json");`,
    `console.log(JSON.stringify({ ready: "other" }));`,
    o.ready !== undefined
      ? `console.log(JSON.stringify({ ready: ${JSON.stringify(o.ready)}, grandchild: g.pid }));`
      : "",
    "setInterval(() => {}, 1e6);",
  ].join("\n");
}

describe("spawnService (real child processes)", () => {
  it("waits for the named ready line; stop kills the whole group and is idempotent", async () => {
    const p = await startService({
      name: "svc",
      command: process.execPath,
      args: ["-e", script({ ready: "svc" })],
      readyTimeoutMs: 10_000,
      detached: true,
    });
    const line = await p.ready;
    assert.equal(line.ready, "svc");
    const grandchild = Number(line.grandchild);
    assert.ok(processAlive(grandchild));
    const first = p.stop(5000);
    assert.equal(p.stop(0), first);
    const { exit, forced } = await withTimeout(first, 10_000, "stop");
    assert.deepEqual(exit, { code: null, signal: "SIGTERM" });
    assert.equal(forced, false);
    assert.equal(processAlive(grandchild), false, "grandchild is gone");
    assert.equal(groupAlive(p.pid!), false);
    assert.deepEqual(p.exit, exit);
  });

  it("SIGKILLs the group after the grace time when SIGTERM is ignored", async () => {
    const p = await startService({
      name: "stubborn",
      command: process.execPath,
      args: ["-e", script({ ready: "stubborn", ignoreTerm: true })],
      readyTimeoutMs: 10_000,
      detached: true,
    });
    const grandchild = Number((await p.ready).grandchild);
    const t = performance.now();
    const { exit, forced } = await withTimeout(p.stop(300), 10_000, "stop");
    assert.ok(performance.now() - t >= 250);
    assert.equal(forced, true);
    assert.equal(exit.signal, "SIGKILL");
    assert.equal(processAlive(grandchild), false);
    assert.match(p.output(), /ignoring SIGTERM/);
  });

  it("rejects ready when the child exits first, with its exit and output", async () => {
    const p = spawnService({
      name: "svc",
      command: process.execPath,
      args: ["-e", script({ exitCode: 3 })],
      readyTimeoutMs: 10_000,
    });
    await assert.rejects(p.ready, (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.reason, "exited");
      assert.deepEqual(e.exit, { code: 3, signal: null });
      assert.match(e.message, /svc exited before ready \(code 3\)/);
      assert.match(e.message, /bye/);
      return true;
    });
  });

  it("rejects ready on timeout when only another service's line came; startService kills it", async () => {
    let spawned: number | undefined;
    await assert.rejects(
      startService({
        name: "svc",
        command: process.execPath,
        args: ["-e", script({ ready: "not-svc" })],
        readyTimeoutMs: 300,
        detached: true,
        failGraceMs: 0,
      }).catch((e: unknown) => {
        spawned = Number(/"grandchild":(\d+)/.exec(String(e))?.[1]);
        throw e;
      }),
      (e: unknown) =>
        e instanceof ServiceStartError &&
        e.reason === "timeout" &&
        /no ready line within 300 ms/.test(e.message),
    );
    assert.ok(spawned && !processAlive(spawned), "the group was killed");
  });

  it("reports a spawn error through exited", async () => {
    const p = spawnService({ command: "/nonexistent/binary", args: [], readyTimeoutMs: 1000 });
    assert.equal(p.pid, undefined);
    const exit = await p.exited;
    assert.match(exit.error ?? "", /ENOENT/);
    await assert.rejects(p.ready, /exited before ready \(spawn error: .*ENOENT/);
    await p.stop(100);
  });

  it("with a log file: header, stdout and stderr go there; readyTest replaces the line", async () => {
    const dir = tempDir("hive-proc-");
    try {
      const log = join(dir.path, "svc.log");
      const marker = join(dir.path, "up");
      const p = await startService({
        name: "svc",
        command: process.execPath,
        args: [
          "-e",
          `console.log("hello out"); console.error("hello err"); require("node:fs").writeFileSync(${JSON.stringify(marker)}, ""); setInterval(() => {}, 1e6);`,
        ],
        logFile: log,
        logHeader: "--- starting svc ---",
        readyTimeoutMs: 10_000,
        readyTest: () => existsSync(marker),
      });
      assert.deepEqual(await p.ready, { ready: "svc" });
      await p.stop(5000);
      const text = readFileSync(log, "utf8");
      assert.match(text, /^--- starting svc ---\n/);
      assert.match(text, /hello out/);
      assert.match(text, /hello err/);
      assert.equal(p.output(), "");
    } finally {
      dir.remove();
    }
  });
});
