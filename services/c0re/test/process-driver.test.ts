import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processAlive as alive, createLogger, hivePaths } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import type { DriverEvent } from "../src/driver.js";
import {
  HarnessStartError,
  ProcessDriver,
  type ProcessDriverOptions,
} from "../src/process-driver.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The fixture is plain JS, run as it is. */
const FIXTURE = join(here, "fixtures/ready-process.mjs");

interface ReadyInfo {
  pid: number;
  grandchild: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

describe("process driver (with a stand-in child program)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let driver: ProcessDriver;
  let events: DriverEvent[];
  const log = createLogger("c0re-test", { level: "silent" });

  beforeAll(() => {
    tmp = tempDir("c0re-driver-");
  });
  afterAll(() => tmp.remove());
  afterEach(async () => {
    await driver?.stopAll();
  });

  function make(opts: Partial<ProcessDriverOptions> = {}, mode = "ready"): ProcessDriver {
    driver = new ProcessDriver({
      root: tmp.path,
      harnessBin: FIXTURE,
      natsUrl: "nats://127.0.0.1:1",
      promptsDir: "/prompts",
      claudeBin: "/bin/claude-x",
      model: "haiku",
      modelUrl: "http://127.0.0.1:9",
      baseEnv: { ...process.env, FIXTURE_MODE: mode, C0RE_DB: "/nope", ANTHROPIC_API_KEY: "" },
      readyTimeoutMs: 5000,
      stopGraceMs: 1000,
      backoffInitialMs: 100,
      backoffMaxMs: 400,
      log,
      ...opts,
    });
    events = [];
    driver.onEvent((e) => events.push(e));
    return driver;
  }

  /** The newest ready line the fixture wrote to the agent's log. */
  function readyInfo(name: string, after = 0): ReadyInfo {
    const lines = readFileSync(driver.logFile(name), "utf8")
      .split("\n")
      .filter((l) => l.startsWith('{"ready"'))
      .map((l) => JSON.parse(l) as ReadyInfo);
    const info = lines.at(-1);
    assert.ok(info && lines.length > after, "no (new) ready line in the log");
    return info;
  }

  it("starts a detached child with the env contract and waits for its ready line", async () => {
    make();
    await driver.start({ name: "alice", role: "agent" });
    const st = driver.status("alice");
    assert.equal(st.running, true);
    const info = readyInfo("alice");
    assert.equal(info.pid, st.pid);
    assert.deepEqual(info.argv, ["serve"]);
    const paths = hivePaths(tmp.path);
    assert.equal(info.cwd, paths.agentStateDir("alice"));
    assert.deepEqual(
      {
        HIVE_AGENT: info.env.HIVE_AGENT,
        HIVE_ROLE: info.env.HIVE_ROLE,
        NATS_URL: info.env.NATS_URL,
        HIVE_STATE_DIR: info.env.HIVE_STATE_DIR,
        HIVE_RUN_DIR: info.env.HIVE_RUN_DIR,
        HIVE_PROMPTS_DIR: info.env.HIVE_PROMPTS_DIR,
        HIVE_CLAUDE_BIN: info.env.HIVE_CLAUDE_BIN,
        HIVE_MODEL: info.env.HIVE_MODEL,
        ANTHROPIC_BASE_URL: info.env.ANTHROPIC_BASE_URL,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: info.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC,
      },
      {
        HIVE_AGENT: "alice",
        HIVE_ROLE: "agent",
        NATS_URL: "nats://127.0.0.1:1",
        HIVE_STATE_DIR: paths.agentStateDir("alice"),
        HIVE_RUN_DIR: paths.agentRunDir("alice"),
        HIVE_PROMPTS_DIR: "/prompts",
        HIVE_CLAUDE_BIN: "/bin/claude-x",
        HIVE_MODEL: "haiku",
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
    );
    assert.ok((info.env.ANTHROPIC_API_KEY ?? "").length > 0, "a placeholder key is set");
    assert.equal(info.env.C0RE_DB, undefined, "c0re's own settings are not passed on");
    // The child leads its own process group.
    assert.equal(
      readFileSync(`/proc/${info.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[2],
      String(info.pid),
    );
    assert.match(await driver.logs("alice"), /fixture: up as pid/);
    assert.deepEqual(
      events.map((e) => e.kind),
      ["started"],
    );
  });

  it("stop kills the whole process group, grandchildren included", async () => {
    make();
    await driver.start({ name: "bob", role: "agent" });
    const info = readyInfo("bob");
    assert.ok(alive(info.grandchild));
    await driver.stop("bob");
    assert.equal(driver.status("bob").running, false);
    assert.equal(alive(info.pid), false);
    await waitUntil(() => !alive(info.grandchild), { timeoutMs: 3000, what: "grandchild gone" });
    assert.deepEqual(
      events.map((e) => e.kind),
      ["started", "stopped"],
    );
    await driver.stop("bob"); // idempotent
  });

  it("restarts a killed child with doubling backoff and reaps its group", async () => {
    make();
    await driver.start({ name: "carol", role: "agent" });
    const first = readyInfo("carol");
    process.kill(first.pid, "SIGKILL");
    await waitUntil(() => events.some((e) => e.kind === "started" && e.automatic), {
      what: "automatic restart",
    });
    const second = readyInfo("carol", 1);
    assert.notEqual(second.pid, first.pid);
    assert.equal(driver.status("carol").pid, second.pid);
    await waitUntil(() => !alive(first.grandchild), {
      timeoutMs: 3000,
      what: "old grandchild gone",
    });

    process.kill(second.pid, "SIGKILL");
    await waitUntil(() => events.filter((e) => e.kind === "started").length === 3, {
      what: "second automatic restart",
    });
    const delays = events.flatMap((e) => (e.kind === "restarting" ? [e.delayMs] : []));
    assert.deepEqual(delays, [100, 200]);
    const exits = events.flatMap((e) => (e.kind === "exited" ? [e.detail] : []));
    assert.deepEqual(exits, ["signal SIGKILL", "signal SIGKILL"]);
  });

  it("a child that never says ready fails the start and is killed; retries stop on stop()", async () => {
    make({ readyTimeoutMs: 500 }, "no-ready");
    await assert.rejects(driver.start({ name: "dave", role: "agent" }), (e: unknown) => {
      assert.ok(e instanceof HarnessStartError);
      assert.match(e.message, /no ready line within 500 ms/);
      assert.match(e.message, /fixture: up as pid/, "the error carries the log tail");
      return true;
    });
    const pid = Number(/up as pid (\d+)/.exec(await driver.logs("dave"))?.[1]);
    assert.equal(alive(pid), false);
    assert.equal(driver.status("dave").running, false);
    assert.equal(driver.status("dave").restartPending, true);
    await driver.stop("dave");
    assert.equal(driver.status("dave").restartPending, false);
    assert.deepEqual(
      events.map((e) => e.kind),
      ["exited", "restarting"],
    );
  });

  it("stop during a start ends it at once instead of waiting out the ready deadline", async () => {
    make({ readyTimeoutMs: 20_000 }, "no-ready");
    const starting = driver.start({ name: "jo", role: "agent" });
    const rejected = assert.rejects(starting, /start of jo cancelled: stopped/);
    const pid = Number(
      (
        await waitUntil(async () => /up as pid (\d+)/.exec(await driver.logs("jo")), {
          what: "the child running",
        })
      )[1],
    );
    const t0 = Date.now();
    await driver.stop("jo");
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    await rejected;
    assert.equal(alive(pid), false);
    assert.deepEqual(driver.status("jo"), { running: false, restartPending: false });
  });

  it("a new driver (after c0re died without stopping) kills the harness it left behind", async () => {
    // The first driver stands for the dead c0re: its (hour-long) restart must never fire.
    const first = make({ backoffInitialMs: 3_600_000 });
    await first.start({ name: "gina", role: "agent" });
    const old = readyInfo("gina");
    // A second driver on the same root, as after a SIGKILLed c0re: it must not run gina twice.
    const second = make();
    await second.start({ name: "gina", role: "agent" });
    const now = readyInfo("gina", 1);
    assert.notEqual(now.pid, old.pid);
    assert.equal(alive(old.pid), false);
    await waitUntil(() => !alive(old.grandchild), { timeoutMs: 3000, what: "old grandchild gone" });
    await second.stop("gina");
    assert.equal(alive(now.pid), false);
    await first.stop("gina"); // only cancels its pending restart
  });

  it("a pid file naming a reused pid (another agent's harness) kills nothing", async () => {
    make();
    await driver.start({ name: "hank", role: "agent" });
    const hank = readyInfo("hank");
    // ivy's harness is long gone and its pid now belongs to hank's: same program, other agent.
    const ivyRun = hivePaths(tmp.path).agentRunDir("ivy");
    mkdirSync(ivyRun, { recursive: true });
    writeFileSync(join(ivyRun, "harness.pid"), `${hank.pid}\n`);
    await driver.start({ name: "ivy", role: "agent" });
    assert.equal(alive(hank.pid), true, "hank's harness survived ivy's start");
    assert.equal(alive(hank.grandchild), true);
    assert.equal(driver.status("hank").running, true);
    assert.equal(readyInfo("ivy").env.HIVE_AGENT, "ivy");
    assert.deepEqual(
      events.filter((e) => e.kind !== "started").map((e) => e.kind),
      [],
    );
  });

  it("a crashing child is reported with its exit code", async () => {
    make({}, "crash");
    await assert.rejects(
      driver.start({ name: "erin", role: "agent" }),
      /exited before ready \(code 3\)/,
    );
    await driver.stop("erin");
  });

  it("stop SIGKILLs a child that ignores SIGTERM after the grace time", async () => {
    make({ stopGraceMs: 300 }, "ignore-term");
    await driver.start({ name: "frank", role: "agent" });
    const info = readyInfo("frank");
    const t0 = Date.now();
    await driver.stop("frank");
    assert.ok(Date.now() - t0 >= 300);
    assert.equal(alive(info.pid), false);
    assert.match(await driver.logs("frank"), /ignoring SIGTERM/);
  });
});
