import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AgentsListResponse, HiveRuntime, hivePaths, InboxListResponse } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
/** cli/test → repo root. */
const REPO = join(here, "../..");
const HIVE = join(REPO, "cli/bin/hive.js");
const SERVICES = ["broker", "c0re", "harness", "model-server", "web"].map((s) =>
  join(REPO, `services/${s}/dist/src/main.js`),
);
const missing = SERVICES.filter((p) => !existsSync(p));
// Not a skip: a test run without the built services is a broken run, said in one line.
if (missing.length > 0)
  throw new Error(`services not built (run npm run build): ${missing.join(", ")}`);

const run = promisify(execFile);

/** An environment with no hive or NATS of the developer's leaking in. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, HIVE_LOG_LEVEL: "info" };
  for (const k of ["NATS_URL", "HIVE_ROOT", "ANTHROPIC_API_KEY", "HIVE_CLAUDE_BIN"]) delete env[k];
  return env;
}

/** Runs a `hive` command to completion. */
async function hive(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const r = await run(process.execPath, [HIVE, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

function stat(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()?.split(" ");
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Live (non-zombie) process? */
function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s[0] !== "Z";
}

/** Every live descendant of `root` (Linux /proc). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s && s[0] !== "Z") parent.set(Number(d), Number(s[1]));
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) {
      if (pp === p) {
        out.push(pid);
        walk(pid);
      }
    }
  };
  walk(root);
  return out;
}

interface Up {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

function startUp(args: string[], env: NodeJS.ProcessEnv): Up {
  const child = spawn(process.execPath, [HIVE, "up", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

describe("hive CLI without a running hive", () => {
  it("agents, inbox and send say clearly that no hive is running", async () => {
    const tmp = tempDir("hive-cli-none-");
    try {
      const env = cleanEnv(tmp.path);
      for (const args of [["agents"], ["inbox", "--json"], ["send", "manager", "hi"]]) {
        const r = await hive([...args, "--root", tmp.path], env);
        assert.equal(r.code, 1, args.join(" "));
        assert.match(r.stderr, /no hive is running at/);
      }
      const bad = await hive(["frobnicate", "--root", tmp.path], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /unknown command: frobnicate/);
      const badUrl = await hive(["up", "--model-url", "localhost:8080", "--root", tmp.path], env);
      assert.equal(badUrl.code, 2);
      assert.match(badUrl.stderr, /--model-url must be an http\(s\) URL/);
      const both = await hive(
        ["up", "--offline", "--model-url", "http://127.0.0.1:9", "--root", tmp.path],
        env,
      );
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--offline and --model-url exclude each other/);
    } finally {
      tmp.remove();
    }
  });

  it("a hive.json whose NATS does not answer gives one clear line, not a stack trace", async () => {
    const tmp = tempDir("hive-cli-nonats-");
    try {
      const runtime: HiveRuntime = {
        pid: process.pid, // alive, so the file is not taken for stale
        nats_url: "nats://127.0.0.1:1",
        web_url: "http://127.0.0.1:1",
        token: "x".repeat(32),
        started_at: Date.now(),
      };
      writeFileSync(hivePaths(tmp.path).runtimeFile, JSON.stringify(runtime));
      const r = await hive(["agents", "--root", tmp.path], cleanEnv(tmp.path));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^hive: cannot reach the hive's NATS at nats:\/\/127\.0\.0\.1:1 /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    } finally {
      tmp.remove();
    }
  });
});

describe("hive up --offline (real nats, broker, c0re, harness, claude, model server, web)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let upProc: Up;
  let dashboard: string;

  beforeAll(async () => {
    tmp = tempDir("hive-cli-");
    env = cleanEnv(join(tmp.path, "home"));
    // A stale hive.json of a dead hive, world-readable: up must replace it, owner-only.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale: HiveRuntime = {
      pid: dead,
      nats_url: "nats://127.0.0.1:1",
      web_url: "http://127.0.0.1:1",
      token: "s".repeat(32),
      started_at: 1,
    };
    writeFileSync(hivePaths(tmp.path).runtimeFile, JSON.stringify(stale), { mode: 0o644 });
    upProc = startUp(["--offline", "--root", tmp.path, "--port", "0"], env);
    const m = await waitUntil(
      () => {
        if (upProc.child.exitCode !== null) {
          throw new Error(`hive up exited ${upProc.child.exitCode}:\n${upProc.stderr()}`);
        }
        return /dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(upProc.stdout());
      },
      { timeoutMs: 120_000, what: "the dashboard URL line" },
    );
    dashboard = m[1]!;
  });

  afterAll(async () => {
    if (upProc && upProc.child.exitCode === null && upProc.child.signalCode === null) {
      upProc.child.kill("SIGTERM");
      await upProc.exited;
    }
    tmp?.remove();
  });

  it("writes hive.json and serves the dashboard with the printed token", async () => {
    const file = hivePaths(tmp.path).runtimeFile;
    const rt = HiveRuntime.parse(JSON.parse(readFileSync(file, "utf8")));
    assert.equal(statSync(file).mode & 0o777, 0o600, "hive.json holds the token: owner only");
    assert.equal(rt.pid, upProc.child.pid);
    assert.ok(dashboard.startsWith(`${rt.web_url}/?token=${rt.token}`));
    assert.match(upProc.stdout(), new RegExp(`^token: ${rt.token}$`, "m"));
    assert.notEqual(new URL(rt.nats_url).port, "4222");
    // The printed URL logs the browser in (cookie + redirect); the token itself opens the page.
    const login = await fetch(dashboard, { redirect: "manual" });
    assert.equal(login.status, 303);
    assert.match(login.headers.get("set-cookie") ?? "", /hive_token=/);
    await login.body?.cancel();
    const page = await fetch(rt.web_url, { headers: { authorization: `Bearer ${rt.token}` } });
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const denied = await fetch(rt.web_url);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
  });

  it("hive agents lists the manager", async () => {
    const r = await hive(["agents", "--json", "--root", tmp.path], env);
    assert.equal(r.code, 0, r.stderr);
    const { agents } = AgentsListResponse.parse(JSON.parse(r.stdout));
    const m = agents.find((a) => a.name === "manager");
    assert.equal(m?.role, "manager");
    assert.equal(m?.running, true);
    const table = await hive(["agents", "--root", tmp.path], env);
    assert.match(table.stdout, /^NAME\s+ROLE\s+STATE\s+SINCE/m);
    assert.match(table.stdout, /^manager\s+manager\s+/m);
  });

  it("operator sends ping -> the manager replies into the operator's inbox", async () => {
    const sent = await hive(["send", "manager", "ping", "--root", tmp.path], env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent #\d+ to manager$/m);
    const reply = await waitUntil(
      async () => {
        const r = await hive(["inbox", "--json", "--root", tmp.path], env);
        assert.equal(r.code, 0, r.stderr);
        return InboxListResponse.parse(JSON.parse(r.stdout)).messages.find(
          (m) => m.from === "manager",
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "a reply from the manager" },
    );
    assert.match(reply.body, /ping/);
    const text = await hive(["inbox", "--root", tmp.path], env);
    assert.match(text.stdout, /from manager/);
  });

  it("SIGTERM stops everything it started, removes hive.json and exits 0", async () => {
    const pids = descendants(upProc.child.pid!);
    assert.ok(pids.length >= 6, `nats, model, broker, c0re, web, harness: got ${pids.length}`);
    upProc.child.kill("SIGTERM");
    assert.equal(await upProc.exited, 0, upProc.stderr());
    assert.equal(existsSync(hivePaths(tmp.path).runtimeFile), false);
    await waitUntil(() => pids.every((p) => !alive(p)), {
      timeoutMs: 5000,
      what: `no leftovers among ${pids.join(",")}`,
    });
    const r = await hive(["agents", "--root", tmp.path], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no hive is running/);
  });
});

describe("hive up when a service fails to start", () => {
  it("stops what it started and exits non-zero with a clear message", async () => {
    const tmp = tempDir("hive-cli-fail-");
    try {
      // An unreachable NATS: the model server comes up, then the broker cannot connect.
      const env = { ...cleanEnv(join(tmp.path, "home")), NATS_URL: "nats://127.0.0.1:1" };
      const p = startUp(["--offline", "--root", tmp.path, "--port", "0"], env);
      const seen = new Set<number>();
      const watch = setInterval(() => {
        for (const d of descendants(p.child.pid!)) seen.add(d);
      }, 20);
      const code = await p.exited;
      clearInterval(watch);
      assert.equal(code, 1, p.stderr());
      assert.match(p.stderr(), /hive: broker (exited|did not say ready)/);
      assert.equal(existsSync(hivePaths(tmp.path).runtimeFile), false);
      assert.ok(seen.size > 0, "it did start children");
      for (const pid of seen) assert.equal(alive(pid), false, `pid ${pid} left behind`);
    } finally {
      tmp.remove();
    }
  });
});

describe("hive up stopped by SIGTERM while a service is still starting", () => {
  it("stops the starting service too, leaves nothing behind and exits 0", async () => {
    const tmp = tempDir("hive-cli-early-");
    try {
      const p = startUp(
        ["--offline", "--root", tmp.path, "--port", "0"],
        cleanEnv(join(tmp.path, "home")),
      );
      const seen = new Set<number>();
      const watch = setInterval(() => {
        for (const d of descendants(p.child.pid!)) seen.add(d);
      }, 10);
      try {
        // c0re has been spawned but has not said ready (that needs the manager up first).
        await waitUntil(
          () => {
            if (p.child.exitCode !== null) throw new Error(`hive up exited:\n${p.stderr()}`);
            return [...seen].some((d) => cmdline(d).includes("services/c0re/dist/src/main.js"));
          },
          { timeoutMs: 60_000, intervalMs: 10, what: "c0re spawned" },
        );
        assert.doesNotMatch(p.stdout(), /dashboard:/, "c0re was still starting");
        p.child.kill("SIGTERM");
        assert.equal(await p.exited, 0, p.stderr());
      } finally {
        clearInterval(watch);
      }
      assert.doesNotMatch(p.stderr(), /exited unexpectedly|did not say ready/);
      assert.equal(existsSync(hivePaths(tmp.path).runtimeFile), false);
      await waitUntil(() => [...seen].every((pid) => !alive(pid)), {
        timeoutMs: 5000,
        what: `no leftovers among ${[...seen].map((d) => `${d} ${cmdline(d)}`).join(", ")}`,
      });
    } finally {
      tmp.remove();
    }
  });
});
