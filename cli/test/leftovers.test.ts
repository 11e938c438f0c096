import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { processAlive, readProcStat } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterEach, describe, it } from "vitest";
import {
  belongsToRoot,
  ProcessBook,
  processId,
  readProcessRecord,
  stopLeftovers,
} from "../src/leftovers.js";
import { acquireRootLock } from "../src/lock.js";
import { rootPaths } from "../src/paths.js";
import { allGone } from "./helpers.js";

const started: number[] = [];

/**
 * A real process that runs until killed, with `env` and `args`. `stubborn`: the path of a file it
 * writes once it ignores SIGTERM (before that, on a loaded machine, a SIGTERM still kills it).
 */
function sleeper(env: NodeJS.ProcessEnv, args: string[] = [], stubborn?: string): number {
  const code =
    stubborn === undefined
      ? "setInterval(()=>{},1000)"
      : `process.on('SIGTERM',()=>{});require('node:fs').writeFileSync(${JSON.stringify(stubborn)},'');setInterval(()=>{},1000)`;
  const child = spawn(process.execPath, ["-e", code, "--", ...args], {
    env,
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  if (child.pid === undefined) throw new Error("no pid");
  started.push(child.pid);
  return child.pid;
}

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

describe("leftovers of a dead hive up", () => {
  it("stops exactly the recorded processes that are still the same processes of this root", async () => {
    const tmp = tempDir("hive-leftovers-");
    try {
      const paths = rootPaths(tmp.path);
      const ours = sleeper({ ...process.env, HIVE_ROOT: tmp.path });
      const byArg = sleeper(process.env, ["--dir", `${tmp.path}/nats`]);
      const deaf = `${tmp.path}/stubborn-ready`;
      const stubborn = sleeper({ ...process.env, HIVE_ROOT: tmp.path }, [], deaf);
      const otherRoot = sleeper({ ...process.env, HIVE_ROOT: `${tmp.path}-other` });
      const reused = sleeper({ ...process.env, HIVE_ROOT: tmp.path });
      await waitUntil(() => started.every((p) => readProcStat(p) !== undefined));
      await waitUntil(() => existsSync(deaf), { what: "the stubborn one ignoring SIGTERM" });
      const dead = spawnSync(process.execPath, ["-e", ""]).pid;
      const book = new ProcessBook(paths, { pid: dead, start_ticks: 1 });
      book.set("broker", [ours]);
      book.set("nats-server", [byArg]);
      book.set("c0re", [stubborn]);
      book.set("web", [otherRoot]);
      book.set("model-server", [reused]);
      // The record as a crashed hive up left it: the owner is dead. One pid is "reused": its
      // recorded start differs from the live process's.
      const record = readProcessRecord(paths);
      assert.ok(record);
      assert.equal(statSync(paths.processesFile).mode & 0o777, 0o600);
      assert.equal(statSync(paths.privateDir).mode & 0o777, 0o700);
      for (const p of record.processes) if (p.pid === reused) p.start_ticks += 1;

      assert.equal(belongsToRoot(ours, tmp.path), true);
      assert.equal(belongsToRoot(byArg, tmp.path), true);
      assert.equal(belongsToRoot(otherRoot, tmp.path), false);

      const t0 = Date.now();
      const stopped = await stopLeftovers(record, tmp.path, 500);
      assert.deepEqual(stopped.map((p) => p.service).sort(), ["broker", "c0re", "nats-server"]);
      await allGone([ours, byArg, stubborn], 3000);
      assert.ok(Date.now() - t0 >= 500, "the stubborn one got its grace before SIGKILL");
      assert.equal(processAlive(otherRoot), true, "another root's process is left alone");
      assert.equal(processAlive(reused), true, "a reused pid is left alone");

      // A record that names another root (a copied dir) is ignored entirely.
      const foreign = { ...record, root: `${tmp.path}-other` };
      assert.deepEqual(await stopLeftovers(foreign, tmp.path, 100), []);
      assert.equal(processAlive(otherRoot), true);
      book.remove();
      assert.equal(readProcessRecord(paths), undefined);
    } finally {
      tmp.remove();
    }
  });

  it("processId names a live process by pid and start ticks", () => {
    const me = processId(process.pid);
    assert.equal(me?.pid, process.pid);
    assert.equal(me?.start_ticks, readProcStat(process.pid)?.startTicks);
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.equal(processId(dead), undefined);
  });
});

describe("the root lock", () => {
  it("is held by one process at a time and freed when its holder dies, even by SIGKILL", async () => {
    const tmp = tempDir("hive-lock-");
    try {
      const lock = await acquireRootLock(tmp.path);
      assert.ok(lock);
      assert.equal(await acquireRootLock(tmp.path), undefined, "taken");
      assert.equal(await acquireRootLock(`${tmp.path}/.`), undefined, "same dir, other spelling");
      await lock.release();
      await lock.release();

      // Another process takes it and is killed with SIGKILL: nothing stale stays behind.
      const holder = spawn(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const { acquireRootLock } = await import(${JSON.stringify(new URL("../dist/src/lock.js", import.meta.url).href)});
           const l = await acquireRootLock(${JSON.stringify(tmp.path)});
           console.log(l ? "held" : "busy"); setInterval(() => {}, 1000);`,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let said = "";
      holder.stdout?.on("data", (d: Buffer) => {
        said += d.toString();
      });
      await waitUntil(() => said.includes("held"), { what: "the other process to hold the lock" });
      assert.equal(await acquireRootLock(tmp.path), undefined);
      holder.kill("SIGKILL");
      const again = await waitUntil(() => acquireRootLock(tmp.path), {
        what: "the lock freed by the holder's death",
      });
      await again.release();
    } finally {
      tmp.remove();
    }
  });
});
