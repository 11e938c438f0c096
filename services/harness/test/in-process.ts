import { connectNats, type Logger, type NatsConnection } from "@hyperhive/shared";
import { TestClock, waitUntil } from "@hyperhive/shared/testing";
import { type HarnessConfig, loadHarnessConfig } from "../src/config.js";
import { type RunClaude, runClaude } from "../src/run-claude.js";
import { bootHarness, type RunningHarness, startHarness } from "../src/serve.js";
import type { TurnLoop } from "../src/turn-loop.js";
import { HARNESS_MAIN, type HarnessEnvOptions, harnessEnv } from "./procs.js";

/** A harness started in this process, as `serve` starts it, but on a test clock. */
export interface InProcessHarness {
  loop: TurnLoop;
  clock: TestClock;
  cfg: HarnessConfig;
  /** Stops the harness, then drains its NATS connection. Idempotent. */
  stop(): Promise<void>;
}

export interface InProcessOptions extends HarnessEnvOptions {
  log: Logger;
  /** More of the harness's environment (HIVE_ROLE, HIVE_TURN_ATTEMPTS, ...). */
  env?: Record<string, string>;
  /** Wraps the real claude (e.g. to record its command lines); default the real one as is. */
  runClaude?: RunClaude;
}

/**
 * Boots and starts a harness in-process on a {@link TestClock}: socket, turn loop and operator
 * controls on its own NATS connection, the real claude with claude's MCP server on the socket.
 * Resolves once the loop is idle.
 */
export async function startInProcess(o: InProcessOptions): Promise<InProcessHarness> {
  const env = { ...harnessEnv(o, o.env), PATH: process.env.PATH };
  const cfg = loadHarnessConfig(env);
  const run = bootHarness(cfg, HARNESS_MAIN);
  const clock = new TestClock();
  const nc: NatsConnection = await connectNats({ url: o.natsUrl, name: `harness:${o.agent}` });
  const harness: RunningHarness = await startHarness({
    cfg,
    run,
    nc,
    log: o.log,
    clock,
    env,
    runClaude: o.runClaude ?? runClaude,
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= harness.stop().then(() => nc.drain());
    return stopping;
  };
  await waitUntil(() => harness.loop.currentState === "idle", { what: `${o.agent} idle` });
  return { loop: harness.loop, clock, cfg, stop };
}
