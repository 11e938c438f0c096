import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { processAlive } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { rootPaths } from "../src/paths.js";
import {
  allGone,
  cleanEnv,
  cmdline,
  dashboardOf,
  descendants,
  HIVE,
  hive,
  recordedPid,
  runtimeOf,
  startUp,
  stopUp,
  type Up,
} from "./helpers.js";

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen({ port: 0, host: "127.0.0.1" }, () => res()));
  const addr = server.address();
  await new Promise<void>((res) => server.close(() => res()));
  if (typeof addr !== "object" || addr === null) throw new Error("no port");
  return addr.port;
}

/** Every pid seen under `up` while it runs, sampled until `stop()`. */
function watchDescendants(up: Up) {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    for (const d of descendants(up.pid)) seen.add(d);
  }, 10);
  return { seen, stop: () => clearInterval(timer) };
}

describe("hive up never leaves orphans (a real hive, kill -9 of hive up)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let first: Up;
  let cookie = "";
  let natsUrl = "";
  let token = "";
  const ups: Up[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    tmp = tempDir("hive-orphans-");
    env = cleanEnv(join(tmp.path, "home"));
    port = await freePort();
    first = startUp(["--offline", "--root", tmp.path, "--port", String(port)], env);
    ups.push(first);
    const dashboard = await dashboardOf(first);
    const login = await fetch(dashboard, { redirect: "manual" });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    await login.body?.cancel();
    ({ nats_url: natsUrl, token } = runtimeOf(tmp.path));
  }, 150_000);

  afterAll(async () => {
    console.log(`orphan figures:\n  ${figures.join("\n  ")}`);
    for (const u of ups) await stopUp(u);
    tmp?.remove();
  });

  it("SIGKILL of hive up mid-turn: nats-server, services, harness and claude all stop by themselves", async () => {
    const model = /\(model: (http:\/\/127\.0\.0\.1:\d+)\)/.exec(first.stdout())?.[1];
    assert.ok(model, first.stdout());
    // Hold the model's answer, so claude is mid-turn when hive up dies.
    const script = [{ match: "from: operator", hold: true, reply: [{ text: "held" }] }];
    const put = await fetch(`${model}/_script`, { method: "PUT", body: JSON.stringify(script) });
    assert.equal(put.status, 200);
    const sent = await hive(["send", "manager", "hold-me", "--root", tmp.path], env);
    assert.equal(sent.code, 0, sent.stderr);
    await waitUntil(
      async () => {
        const r = await fetch(`${model}/_requests`);
        return z
          .array(z.object({ text: z.string() }))
          .parse(await r.json())
          .some((q) => q.text.includes("hold-me"));
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "claude's request, held" },
    );
    const pids = descendants(first.pid);
    const names = pids.map(cmdline);
    for (const part of [
      "nats-server -c",
      "nats-guard.js",
      "model-server/",
      "broker/",
      "scheduler/",
      "c0re/",
      "web/",
      "harness/",
      "claude",
    ]) {
      assert.ok(
        names.some((n) => n.includes(part)),
        `${part} among:\n${names.join("\n")}`,
      );
    }
    const t0 = Date.now();
    first.child.kill("SIGKILL");
    await allGone(pids, 30_000);
    figures.push(
      `${pids.length} processes gone ${Date.now() - t0} ms after SIGKILL of hive up (claude mid-turn)`,
    );
  }, 120_000);

  it("the next hive up on that root has the same NATS port and token; an old browser session still works", async () => {
    const second = startUp(["--offline", "--root", tmp.path, "--port", String(port)], env);
    ups.push(second);
    await dashboardOf(second);
    const rt = runtimeOf(tmp.path);
    assert.equal(rt.nats_url, natsUrl);
    assert.equal(rt.token, token);
    assert.equal(rt.web_url, `http://127.0.0.1:${port}`);
    const res = await fetch(`${rt.web_url}/api/agents`, { headers: { cookie } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // A second hive up on a running root refuses, naming the owner.
    const twice = await hive(["up", "--offline", "--root", tmp.path, "--port", "0"], env);
    assert.equal(twice.code, 1);
    assert.equal(
      twice.stderr,
      `hive: a hive is already running at ${tmp.path} (pid ${second.pid})\n`,
    );

    // Now a service that cannot notice its lifeline (stopped), and hive up killed: the next
    // hive up finds it by the record, checks it is the same process, and stops it.
    const web = recordedPid(tmp.path, "web");
    assert.ok(web);
    const left = descendants(second.pid);
    process.kill(web, "SIGSTOP");
    second.child.kill("SIGKILL");
    await second.exited;
    const t0 = Date.now();
    const third = startUp(["--offline", "--root", tmp.path, "--port", String(port)], env);
    ups.push(third);
    await dashboardOf(third);
    figures.push(`hive up after a dead one with a stopped web: up in ${Date.now() - t0} ms`);
    assert.match(
      third.stderr(),
      new RegExp(
        `^hive: stopped what a hive up that died \\(pid ${second.pid}\\) left running: .*web \\(pid ${web}\\)`,
        "m",
      ),
    );
    assert.equal(processAlive(web), false);
    await allGone(left, 10_000);
    assert.equal(runtimeOf(tmp.path).token, token);
  }, 150_000);

  it("a taken dashboard port or NATS port is said in one line on the terminal, nothing started", async () => {
    const other = tempDir("hive-orphans-other-");
    try {
      const taken = await hive(
        ["up", "--offline", "--root", other.path, "--port", String(port)],
        env,
      );
      assert.equal(taken.code, 1);
      assert.equal(taken.stderr, `hive: port ${port} is in use; use --port\n`);
      const natsPort = new URL(natsUrl).port;
      mkdirSync(rootPaths(other.path).privateDir, { recursive: true, mode: 0o700 });
      writeFileSync(rootPaths(other.path).natsPortFile, `${natsPort}\n`, { mode: 0o600 });
      const nats = await hive(["up", "--offline", "--root", other.path, "--port", "0"], env);
      assert.equal(nats.code, 1);
      assert.equal(
        nats.stderr,
        `hive: the hive's NATS port ${natsPort} is in use by another process; stop it, or delete ${rootPaths(other.path).natsPortFile} to give this hive a new port\n`,
      );
      assert.equal(existsSync(rootPaths(other.path).processesFile), false);
    } finally {
      other.remove();
    }
  });
});

describe("closing the terminal of hive up (SIGHUP from a real pty)", () => {
  it("stops the hive like SIGTERM: everything gone, hive.json removed", async () => {
    const tmp = tempDir("hive-hup-");
    try {
      const env = cleanEnv(join(tmp.path, "home"));
      // `script` gives hive up a pseudo-terminal; killing script closes it: the kernel hangs up.
      const term = spawn(
        "script",
        [
          "-qfec",
          `${process.execPath} ${HIVE} up --offline --root ${tmp.path} --port 0`,
          "/dev/null",
        ],
        { env, stdio: ["pipe", "ignore", "ignore"] },
      );
      const file = rootPaths(tmp.path).runtimeFile;
      const Pid = z.object({ pid: z.number() });
      const rt = await waitUntil(
        () => (existsSync(file) ? Pid.parse(JSON.parse(readFileSync(file, "utf8"))) : undefined),
        {
          timeoutMs: 120_000,
          what: "hive.json of the hive in the terminal",
        },
      );
      const pids = [rt.pid, ...descendants(rt.pid)];
      assert.ok(pids.length >= 7, `hive up and its services: ${pids.map(cmdline).join("\n")}`);
      const t0 = Date.now();
      term.kill("SIGKILL");
      await allGone(pids, 30_000);
      console.log(`terminal closed: hive gone in ${Date.now() - t0} ms`);
      assert.equal(
        existsSync(file),
        false,
        "a clean stop (not a lifeline death) removes hive.json",
      );
      assert.equal(existsSync(rootPaths(tmp.path).processesFile), false);
    } finally {
      tmp.remove();
    }
  }, 150_000);
});

describe("hive up when a service fails to start", () => {
  it("stops what it started and exits 1 with a clear message", async () => {
    const tmp = tempDir("hive-cli-fail-");
    try {
      // An unreachable NATS: the model server comes up, then the broker cannot connect.
      const env = { ...cleanEnv(join(tmp.path, "home")), NATS_URL: "nats://127.0.0.1:1" };
      const p = startUp(["--offline", "--root", tmp.path, "--port", "0"], env);
      const w = watchDescendants(p);
      const code = await p.exited;
      w.stop();
      assert.equal(code, 1, p.stderr());
      assert.match(p.stderr(), /^hive: broker (exited|did not say ready)/m);
      assert.equal(existsSync(rootPaths(tmp.path).runtimeFile), false);
      assert.ok(w.seen.size > 0, "it did start children");
      await allGone(w.seen, 5000);
    } finally {
      tmp.remove();
    }
  }, 60_000);
});

describe("hive up stopped by SIGTERM while a service is still starting", () => {
  it("stops the starting service too, leaves nothing behind and exits 0", async () => {
    const tmp = tempDir("hive-cli-early-");
    try {
      const p = startUp(
        ["--offline", "--root", tmp.path, "--port", "0"],
        cleanEnv(join(tmp.path, "home")),
      );
      const w = watchDescendants(p);
      try {
        // c0re has been spawned but has not said ready (that needs the manager up first).
        await waitUntil(
          () => {
            if (p.child.exitCode !== null) throw new Error(`hive up exited:\n${p.stderr()}`);
            return [...w.seen].some((d) => cmdline(d).includes("services/c0re/dist/src/main.js"));
          },
          { timeoutMs: 60_000, intervalMs: 10, what: "c0re spawned" },
        );
        assert.doesNotMatch(p.stdout(), /dashboard:/, "c0re was still starting");
        p.child.kill("SIGTERM");
        assert.equal(await p.exited, 0, p.stderr());
      } finally {
        w.stop();
      }
      assert.doesNotMatch(p.stderr(), /exited on its own|did not say ready/);
      assert.equal(existsSync(rootPaths(tmp.path).runtimeFile), false);
      await allGone(w.seen, 5000);
    } finally {
      tmp.remove();
    }
  }, 90_000);
});
