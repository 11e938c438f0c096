import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { writeFileAtomic } from "../src/fs.js";
import {
  childPids,
  processAlive,
  readProcCmdline,
  readProcEnviron,
  readProcStat,
} from "../src/proc.js";
import { tempDir } from "../src/testing/tmp.js";
import { waitUntil } from "../src/testing/wait.js";

describe("/proc readers (a real child process)", () => {
  it("read stat, cmdline and environ of a child, and see it gone after it is reaped", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)", "a (b) c"], {
      env: { HIVE_PROC_TEST: "x=y" },
      stdio: "ignore",
    });
    const pid = child.pid!;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const stat = readProcStat(pid);
      assert.ok(stat);
      assert.equal(stat.pid, pid);
      assert.equal(stat.ppid, process.pid);
      assert.ok(stat.startTicks > 0);
      assert.deepEqual(readProcCmdline(pid)?.slice(1), [
        "-e",
        "setInterval(() => {}, 1e6)",
        "a (b) c",
      ]);
      assert.equal(readProcEnviron(pid)?.get("HIVE_PROC_TEST"), "x=y");
      assert.ok(childPids(process.pid).includes(pid));
      assert.equal(processAlive(pid), true);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    await waitUntil(() => !processAlive(pid), { what: "the child to be gone" });
    assert.equal(readProcStat(pid), undefined);
    assert.equal(readProcCmdline(pid), undefined);
  });

  it("a parenthesised command name does not confuse the stat parser", () => {
    const self = readProcStat(process.pid);
    assert.equal(self?.ppid, process.ppid);
  });
});

describe("writeFileAtomic", () => {
  it("replaces a world-readable file with an owner-only one, creating the directory", () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, "sub", "secret");
      writeFileAtomic(path, "one");
      assert.equal(readFileSync(path, "utf8"), "one");
      writeFileSync(path, "lax", { mode: 0o644 });
      writeFileAtomic(path, "two", { mode: 0o600 });
      assert.equal(readFileSync(path, "utf8"), "two");
      assert.equal(statSync(path).mode & 0o777, 0o600);
    } finally {
      dir.remove();
    }
  });
});
