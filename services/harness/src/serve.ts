import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type Clock,
  connectNats,
  createLogger,
  type Logger,
  type NatsConnection,
  runService,
  sleep,
  systemClock,
} from "@hyperhive/shared";
import { NatsBridge } from "./bridge.js";
import { type HarnessConfig, loadHarnessConfig } from "./config.js";
import { serveControls } from "./controls.js";
import { writeBootFiles } from "./files.js";
import { type RunClaude, runClaude } from "./run-claude.js";
import { type RunConfig, readRunConfig } from "./run-config.js";
import { SocketServer } from "./socket-server.js";
import { TurnLoop } from "./turn-loop.js";

/**
 * How long a stop lets NATS drain (flush what was published: the last live events and states).
 * On a healthy connection that takes milliseconds; on a dead or frozen one it would never end.
 */
export const DRAIN_DEADLINE_MS = 1000;

/**
 * Drains the connection, or closes it once `deadlineMs` have passed: a harness whose NATS went
 * away must still stop within c0re's grace. What was not flushed is lost; what was not acked
 * comes again.
 */
export async function drainOrClose(
  nc: NatsConnection,
  o: { deadlineMs: number; clock: Clock; log: Logger },
): Promise<void> {
  const deadline = new AbortController();
  const drained = nc.drain().then(
    () => true,
    (e: unknown) => {
      o.log.warn({ err: e }, "drain failed");
      return false;
    },
  );
  const timedOut = sleep(o.clock, o.deadlineMs, deadline.signal).then(() => false);
  const ok = await Promise.race([drained, timedOut]);
  deadline.abort();
  if (!ok && !nc.isClosed()) {
    o.log.warn({ deadlineMs: o.deadlineMs }, "NATS did not drain in time; closing");
    await nc.close();
  }
}

/**
 * Boot: the run and state dirs, the agent's config (`<run>/agent-config.json`, or the defaults),
 * and the files claude is pointed at (its MCP server is `harnessMain mcp`, beside the config's
 * extra servers). Throws if the prompt template is missing or the config file is malformed.
 */
export function bootHarness(cfg: HarnessConfig, harnessMain: string): RunConfig {
  mkdirSync(cfg.runDir, { recursive: true });
  // claude runs with umask 022 (the operator's files tab shows what an agent leaves readable),
  // but its own dirs stay private: sessions, settings and credentials in CLAUDE_CONFIG_DIR, its
  // logs in ~/.cache (HOME is the state dir).
  for (const own of [".claude", ".cache"]) {
    const dir = join(cfg.stateDir, own);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  const run = readRunConfig(cfg.runDir, cfg.defaultModel);
  writeBootFiles({
    runDir: cfg.runDir,
    promptsDir: cfg.promptsDir,
    role: cfg.role,
    operatorPronouns: cfg.operatorPronouns,
    nodeBin: process.execPath,
    harnessMain,
    socketPath: cfg.socketPath,
    agent: cfg.agent,
    extraServers: run.config.extra_mcp_servers,
  });
  return run;
}

/** What a running harness is made of, around one NATS connection. */
export interface HarnessParts {
  cfg: HarnessConfig;
  run: RunConfig;
  nc: NatsConnection;
  log: Logger;
  clock: Clock;
  /** Starts claude; the real one in `serve`. */
  runClaude: RunClaude;
  /** The harness's environment; claude gets a filtered copy. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A started harness: its loop, and how to stop it. */
export interface RunningHarness {
  loop: TurnLoop;
  /** Stops the controls, the loop and the socket, in reverse order of start. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the harness's parts on a connection: the socket, the turn loop and the operator's
 * controls (`hive.op.ctl.<me>.*`). `serve` runs this; tests run it in-process on a test clock.
 */
export async function startHarness(p: HarnessParts): Promise<RunningHarness> {
  const { cfg, log } = p;
  const loop = new TurnLoop({
    hive: new NatsBridge({ nc: p.nc, agent: cfg.agent }),
    log,
    runClaude: p.runClaude,
    clock: p.clock,
    ...(p.env === undefined ? {} : { env: p.env }),
    settings: { ...cfg, runConfig: p.run },
  });
  const socket = new SocketServer({ path: cfg.socketPath, handlers: loop.socketHandlers(), log });
  await socket.start();
  await loop.start();
  const controls = serveControls(p.nc, cfg.agent, loop.controls(), log);
  let stopping: Promise<void> | undefined;
  return {
    loop,
    stop() {
      stopping ??= (async () => {
        // Not awaited: draining a subscription waits for the server, which may be gone, and the
        // stop must stay bounded. The connection's own drain (with its deadline) finishes it.
        for (const c of controls) c.stop().catch(() => {});
        await loop.stop();
        await socket.stop();
      })();
      return stopping;
    },
  };
}

/** `main.js serve`: the composition root of the turn loop. */
export async function serveMain(harnessMain: string): Promise<void> {
  const cfg = loadHarnessConfig();
  const log = createLogger(`harness:${cfg.agent}`, { level: cfg.logLevel });
  const clock = systemClock;
  const run = bootHarness(cfg, harnessMain);
  log.info({ rev: run.rev, model: run.config.model }, "agent config");

  await runService({
    name: "harness",
    log,
    // Longer than c0re's SIGTERM-to-SIGKILL grace: c0re's SIGKILL is the normal backstop.
    forceExitMs: 30_000,
    async start(defer) {
      const nc = await connectNats({
        url: cfg.natsUrl,
        name: `harness:${cfg.agent}`,
        credsFile: cfg.natsCreds,
      });
      defer(async () => {
        await drainOrClose(nc, { deadlineMs: DRAIN_DEADLINE_MS, clock, log });
        log.info("stopped");
      });
      const harness = await startHarness({ cfg, run, nc, log, clock, runClaude });
      defer(() => harness.stop());
      log.info({ socket: cfg.socketPath }, "serving");
      return { agent: cfg.agent };
    },
  });
}
