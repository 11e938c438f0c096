import assert from "node:assert/strict";
import { join } from "node:path";
import { connectNats, processAlive, type ServiceProcess, spawnService } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterEach, describe, it } from "vitest";
import { z } from "zod";
import { allGone, REPO } from "./helpers.js";

const GUARD = join(REPO, "cli/dist/src/nats-guard.js");
const Ready = z.object({
  ready: z.literal("nats-server"),
  url: z.string(),
  port: z.number(),
  pid: z.number(),
});

const running: ServiceProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop(0);
});

/** The guard as `hive up` runs it: own group, with a lifeline. */
async function startGuard(dir: string, port = -1) {
  const p = spawnService({
    name: "nats-server",
    command: process.execPath,
    args: [GUARD, "--dir", dir, `--port=${port}`],
    detached: true,
    lifeline: true,
    readyTimeoutMs: 15_000,
  });
  running.push(p);
  const ready = Ready.parse(await p.ready);
  return { p, ready };
}

describe("nats-guard (real nats-server)", () => {
  it("serves on the port it is given, and stops nats-server when its lifeline ends", async () => {
    const tmp = tempDir("hive-guard-");
    try {
      const first = await startGuard(tmp.path);
      const port = first.ready.port;
      const nc = await connectNats({ url: first.ready.url, name: "t" });
      await nc.flush();
      await nc.close();
      await first.p.stop(5000);
      assert.equal(processAlive(first.ready.pid), false);

      const again = await startGuard(tmp.path, port);
      assert.equal(again.ready.port, port, "the same port again");
      // The parent "dies": its end of the lifeline closes.
      again.p.child.stdin?.destroy();
      const exit = await again.p.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, again.p.output());
      await allGone([again.ready.pid], 5000);
    } finally {
      tmp.remove();
    }
  });

  it("exits the way nats-server did when it dies on its own (SIGKILL)", async () => {
    const tmp = tempDir("hive-guard-");
    try {
      const { p, ready } = await startGuard(tmp.path);
      process.kill(ready.pid, "SIGKILL");
      const exit = await p.exited;
      assert.deepEqual(exit, { code: null, signal: "SIGKILL" });
      await waitUntil(() => !processAlive(ready.pid));
    } finally {
      tmp.remove();
    }
  });

  it("fails to start, saying why, when its port is taken", async () => {
    const tmp = tempDir("hive-guard-");
    const other = tempDir("hive-guard-other-");
    try {
      const { ready } = await startGuard(other.path);
      const p = spawnService({
        name: "nats-server",
        command: process.execPath,
        args: [GUARD, "--dir", tmp.path, `--port=${ready.port}`],
        lifeline: true,
        readyTimeoutMs: 15_000,
      });
      running.push(p);
      await assert.rejects(p.ready, /exited before ready \(code 1\)/);
      assert.match(p.output(), /address already in use/);
    } finally {
      tmp.remove();
      other.remove();
    }
  });
});
