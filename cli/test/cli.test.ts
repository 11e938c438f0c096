import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentLifecycleResponse,
  AgentsListResponse,
  type HiveRuntime,
  hivePaths,
  InboxListResponse,
  readProcEnviron,
  SendResponse,
} from "@hyperhive/shared";
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
  hive,
  REPO,
  recordedPid,
  runtimeOf,
  startUp,
  stopUp,
  type Up,
} from "./helpers.js";

const WireErrorJson = z.object({
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

describe("hive CLI without a running hive", () => {
  it("agents, inbox, send and token say clearly that there is none, exit 1", async () => {
    const tmp = tempDir("hive-cli-none-");
    try {
      const env = cleanEnv(tmp.path);
      for (const args of [["agents"], ["inbox"], ["send", "manager", "hi"]]) {
        const r = await hive([...args, "--root", tmp.path], env);
        assert.equal(r.code, 1, args.join(" "));
        assert.match(r.stderr, /^hive: no hive is running at .*; start one with: hive up\n$/);
      }
      const json = await hive(["inbox", "--json", "--root", tmp.path], env);
      assert.equal(json.code, 1);
      assert.equal(WireErrorJson.parse(JSON.parse(json.stdout)).error.code, "unavailable");
      const token = await hive(["token", "--root", tmp.path], env);
      assert.equal(token.code, 1);
      assert.match(token.stderr, /^hive: no operator token at .* yet; hive up makes one/);
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
      assert.equal(r.stderr.split("\n").length, 2, "one line");
    } finally {
      tmp.remove();
    }
  });
});

describe("hive up --offline (real nats, broker, c0re, harness, claude, model server, web)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let up: Up;
  let dashboard: string;
  const cli = (...args: string[]) => hive([...args, "--root", tmp.path], env);

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
    up = startUp(["--offline", "--root", tmp.path, "--port", "0"], env);
    dashboard = await dashboardOf(up);
  }, 150_000);

  afterAll(async () => {
    await stopUp(up);
    tmp?.remove();
  });

  it("writes hive.json and keeps token and NATS port owner-only; the token opens the dashboard", async () => {
    const paths = rootPaths(tmp.path);
    const rt = runtimeOf(tmp.path);
    const mode = (p: string) => statSync(p).mode & 0o777;
    assert.equal(mode(paths.runtimeFile), 0o600, "hive.json holds the token: owner only");
    assert.equal(mode(paths.privateDir), 0o700);
    for (const f of [paths.tokenFile, paths.natsPortFile, paths.processesFile]) {
      assert.equal(mode(f), 0o600, f);
    }
    assert.equal(rt.pid, up.pid);
    assert.equal(readFileSync(paths.tokenFile, "utf8").trim(), rt.token);
    assert.equal(readFileSync(paths.natsPortFile, "utf8").trim(), new URL(rt.nats_url).port);
    assert.notEqual(new URL(rt.nats_url).port, "4222");
    assert.ok(dashboard.startsWith(`${rt.web_url}/?token=${rt.token}`));
    assert.match(up.stdout(), new RegExp(`^token: ${rt.token}$`, "m"));
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

  it("hive agents lists the manager, with its model; --all too (no tombstones yet)", async () => {
    const r = await cli("agents", "--json");
    assert.equal(r.code, 0, r.stderr);
    const { agents } = AgentsListResponse.parse(JSON.parse(r.stdout));
    const m = agents.find((a) => a.name === "manager");
    assert.equal(m?.role, "manager");
    assert.equal(m?.running, true);
    assert.equal(m?.tombstoned_at, null);
    const table = await cli("agents");
    assert.match(
      table.stdout,
      /^NAME\s+ROLE\s+MODEL\s+STATE\s+SINCE\s+RUNNING\s+STARTS\s+REMINDERS$/m,
    );
    assert.match(table.stdout, new RegExp(`^manager\\s+manager\\s+${m?.model ?? "-"}\\s+`, "m"));
    const all = await cli("agents", "--all", "--json");
    assert.equal(all.code, 0, all.stderr);
    const names = AgentsListResponse.parse(JSON.parse(all.stdout)).agents.map((a) => a.name);
    assert.deepEqual(names, ["manager"]);
  });

  it("hands the services and the agents HYPERHIVE_REV, the repository's commit", () => {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const c0re = recordedPid(tmp.path, "c0re");
    assert.ok(c0re, "c0re's pid is recorded");
    assert.equal(readProcEnviron(c0re)?.get("HYPERHIVE_REV"), head);
    const harness = descendants(c0re).find((p) => cmdline(p).includes("harness/"));
    assert.ok(harness, "the manager's harness runs under c0re");
    assert.equal(readProcEnviron(harness)?.get("HYPERHIVE_REV"), head);
  });

  it("operator sends ping -> the manager replies into the operator's inbox", async () => {
    const sent = await cli("send", "manager", "ping");
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent #\d+ to manager$/m);
    const json = await cli("send", "manager", "second", "--json");
    assert.equal(json.code, 0, json.stderr);
    SendResponse.parse(JSON.parse(json.stdout));
    const reply = await waitUntil(
      async () => {
        const r = await cli("inbox", "--json");
        assert.equal(r.code, 0, r.stderr);
        return InboxListResponse.parse(JSON.parse(r.stdout)).messages.find(
          (m) => m.from === "manager" && m.body.includes("ping"),
        );
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "a reply from the manager" },
    );
    assert.match(reply.body, /pong: ping/);
    const text = await cli("inbox");
    assert.match(text.stdout, /from manager/);
  }, 120_000);

  it("hive kill, start and restart the manager; it answers again after", async () => {
    const manager = async () => {
      const r = await cli("agents", "--json");
      const m = AgentsListResponse.parse(JSON.parse(r.stdout)).agents.find(
        (a) => a.name === "manager",
      );
      assert.ok(m, r.stdout);
      return m;
    };
    const before = await manager();
    const killed = await cli("kill", "manager");
    assert.equal(killed.code, 0, killed.stderr);
    assert.equal(killed.stdout, "stopped manager; it stays stopped until: hive start manager\n");
    assert.equal((await manager()).running, false);
    const twice = await cli("kill", "manager");
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "hive: manager is already stopped\n");
    const started = await cli("start", "manager");
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, `started manager (start #${before.starts + 1})\n`);
    const restarted = await cli("restart", "manager", "--json");
    assert.equal(restarted.code, 0, restarted.stderr);
    const after = AgentLifecycleResponse.parse(JSON.parse(restarted.stdout)).agent;
    assert.equal(after.starts, before.starts + 2);
    assert.equal(after.running, true);
    const sent = await cli("send", "manager", "after-restart");
    assert.equal(sent.code, 0, sent.stderr);
    await waitUntil(
      async () => {
        const r = await cli("inbox", "--json");
        return InboxListResponse.parse(JSON.parse(r.stdout)).messages.some((m) =>
          m.body.includes("pong: after-restart"),
        );
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "the restarted manager's reply" },
    );
  }, 150_000);

  it("mail nobody can read is refused in one line (exit 1), or as the wire error with --json", async () => {
    const nobody = await cli("send", "nobody", "hi");
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, "hive: no agent named nobody; the agents are: manager\n");
    const self = await cli("send", "operator", "x");
    assert.equal(self.code, 1);
    assert.equal(self.stderr, "hive: the operator cannot send mail to the operator\n");
    const json = await cli("send", "nobody", "hi", "--json");
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), {
      error: {
        code: "not_found",
        message: "no agent named nobody; the agents are: manager",
        retryable: false,
      },
    });
    const bad = await cli("send", "Not A Name", "hi");
    assert.equal(bad.code, 2, "a name our schema refuses is an argument error");
    assert.match(bad.stderr, /^hive: send: "Not A Name" is not an agent name or '\*' \(/);
  });

  it("hive token prints the token; --rotate makes a new one the running web takes at once", async () => {
    const before = runtimeOf(tmp.path);
    const shown = await cli("token");
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(
      shown.stdout,
      `dashboard: ${before.web_url}/?token=${before.token}\ntoken: ${before.token}\n`,
    );
    // A browser session opened with the old token.
    const login = await fetch(`${before.web_url}/?token=${before.token}`, { redirect: "manual" });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    await login.body?.cancel();
    const rotated = await cli("token", "--rotate", "--json");
    assert.equal(rotated.code, 0, rotated.stderr);
    const out = z
      .object({ token: z.string(), dashboard: z.string(), rotated: z.literal(true) })
      .parse(JSON.parse(rotated.stdout));
    assert.notEqual(out.token, before.token);
    assert.equal(out.dashboard, `${before.web_url}/?token=${out.token}`);
    assert.equal(runtimeOf(tmp.path).token, out.token, "hive.json follows");
    const old = await fetch(`${before.web_url}/api/agents`, { headers: { cookie } });
    assert.equal(old.status, 401, "the old session is cut off");
    await old.body?.cancel();
    const fresh = await fetch(out.dashboard, { redirect: "manual" });
    assert.equal(fresh.status, 303, "the new URL logs in");
    await fresh.body?.cancel();
    const api = await fetch(`${before.web_url}/api/agents`, {
      headers: { authorization: `Bearer ${out.token}` },
    });
    assert.equal(api.status, 200);
    await api.body?.cancel();
  });

  it("SIGTERM stops everything it started, removes hive.json and its record, exits 0", async () => {
    const pids = descendants(up.pid);
    assert.ok(
      pids.length >= 8,
      `guard, nats, model, broker, scheduler, c0re, web, harness: got ${pids.length}`,
    );
    up.child.kill("SIGTERM");
    assert.equal(await up.exited, 0, up.stderr());
    const paths = rootPaths(tmp.path);
    assert.equal(existsSync(paths.runtimeFile), false);
    assert.equal(existsSync(paths.processesFile), false);
    assert.equal(existsSync(paths.tokenFile), true, "the token is kept");
    await allGone(pids, 5000);
    const r = await cli("agents");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no hive is running/);
  });
});
