import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "@hyperhive/shared";
import { TestClock, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll } from "vitest";
import { z } from "zod";
import { agentLogFile } from "../src/agent-log.js";
import type { AgentSpec, DriverEvent } from "../src/driver.js";
import { ProcessDriver, type ProcessDriverOptions } from "../src/process-driver.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The stand-in harness (plain JS, run as it is): see the comment at its top. */
export const FIXTURE = join(here, "fixtures/ready-process.mjs");

/** The fixture's ready line. */
const ReadyInfo = z.object({
  pid: z.number().int(),
  grandchild: z.number().int(),
  argv: z.array(z.string()),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
});
export type ReadyInfo = z.infer<typeof ReadyInfo>;

/** A process driver running the fixture under a hive root, on a test clock, with its events. */
export interface DriverRig {
  driver: ProcessDriver;
  clock: TestClock;
  events: DriverEvent[];
  /** Creates and starts an agent. */
  start(name: string, role?: AgentSpec["role"]): Promise<void>;
  /** The agent's log file as it is now. */
  log(name: string): string;
  /** The newest ready line in the agent's log; fails unless there are more than `after`. */
  readyInfo(name: string, after?: number): ReadyInfo;
  /** The pid the fixture's newest "up as pid" line in the agent's log names. */
  upPid(name: string): number | undefined;
  /** Waits until `n` events of `kind` were reported, and returns the n-th. */
  nth<K extends DriverEvent["kind"]>(
    kind: K,
    n: number,
  ): Promise<Extract<DriverEvent, { kind: K }>>;
}

export const silentLog = createLogger("c0re-test", { level: "silent" });

/**
 * Builds a driver over `root` running the fixture in `mode` (or as the mode file says, when
 * `opts.baseEnv` sets FIXTURE_MODE_FILE). Time for timestamps and restarts is a {@link TestClock}
 * the test moves; readiness, grace times and exits are the processes' own, in real time.
 */
export function driverRig(
  root: string,
  opts: Partial<ProcessDriverOptions> = {},
  mode = "ready",
): DriverRig {
  const clock = new TestClock();
  const driver = new ProcessDriver({
    root,
    harnessBin: FIXTURE,
    natsUrl: "nats://127.0.0.1:1",
    promptsDir: "/prompts",
    claudeBin: "/bin/claude-x",
    model: "haiku",
    modelUrl: "http://127.0.0.1:9",
    baseEnv: { ...process.env, FIXTURE_MODE: mode, C0RE_DB: "/nope", ANTHROPIC_API_KEY: "" },
    readyTimeoutMs: 5000,
    stopGraceMs: 1000,
    log: silentLog,
    clock,
    ...opts,
  });
  const events: DriverEvent[] = [];
  driver.onEvent((e) => events.push(e));
  const log = (name: string): string => {
    try {
      return readFileSync(agentLogFile(root, name), "utf8");
    } catch {
      return "";
    }
  };
  return {
    driver,
    clock,
    events,
    async start(name, role = "agent") {
      await driver.create({ name, role });
      await driver.start({ name, role });
    },
    log,
    readyInfo(name, after = 0) {
      const lines = log(name)
        .split("\n")
        .filter((l) => l.startsWith('{"ready"'))
        .map((l) => ReadyInfo.parse(JSON.parse(l)));
      const info = lines.at(-1);
      assert.ok(info && lines.length > after, `no (new) ready line in ${name}'s log`);
      return info;
    },
    upPid(name) {
      const m = [...log(name).matchAll(/up as pid (\d+)/g)].at(-1);
      return m ? Number(m[1]) : undefined;
    },
    async nth(kind, n) {
      type E = Extract<DriverEvent, { kind: typeof kind }>;
      const of = (): E[] => events.filter((e): e is E => e.kind === kind);
      await waitUntil(() => of().length >= n, { what: `${kind} event #${n}` });
      const e = of()[n - 1];
      assert.ok(e);
      return e;
    },
  };
}

/** A describe block's rigs: one temp hive root for the block, and every rig stopped after each test. */
export interface DriverRigs {
  /** The hive root (valid inside tests). */
  root(): string;
  /** A {@link driverRig} over the root, stopped after the test. */
  make(opts?: Partial<ProcessDriverOptions>, mode?: string): DriverRig;
}

/** Registers the hooks of a describe block that builds {@link driverRig}s. */
export function useDriverRigs(prefix: string): DriverRigs {
  let tmp: ReturnType<typeof tempDir> | undefined;
  const rigs: DriverRig[] = [];
  beforeAll(() => {
    tmp = tempDir(prefix);
  });
  afterAll(() => tmp?.remove());
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.driver.stopAll();
  });
  const root = (): string => {
    assert.ok(tmp, "rigs are made inside tests");
    return tmp.path;
  };
  return {
    root,
    make(opts = {}, mode = "ready") {
      const r = driverRig(root(), opts, mode);
      rigs.push(r);
      return r;
    },
  };
}
