import { mkdirSync } from "node:fs";
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
import { writeBootFiles } from "./files.js";
import { runClaude } from "./run-claude.js";
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
 * Boot: the run and state dirs, and the files claude is pointed at (its MCP server is
 * `harnessMain mcp`). Throws if the prompt template is missing.
 */
export function bootHarness(cfg: HarnessConfig, harnessMain: string): void {
  mkdirSync(cfg.runDir, { recursive: true });
  mkdirSync(join(cfg.stateDir, ".claude"), { recursive: true });
  writeBootFiles({
    runDir: cfg.runDir,
    promptsDir: cfg.promptsDir,
    role: cfg.role,
    operatorPronouns: cfg.operatorPronouns,
    nodeBin: process.execPath,
    harnessMain,
    socketPath: cfg.socketPath,
    agent: cfg.agent,
  });
}

/** `main.js serve`: the composition root of the turn loop. */
export async function serveMain(harnessMain: string): Promise<void> {
  const cfg = loadHarnessConfig();
  const log = createLogger(`harness:${cfg.agent}`, { level: cfg.logLevel });
  const clock = systemClock;
  bootHarness(cfg, harnessMain);

  await runService({
    name: "harness",
    log,
    // Longer than c0re's SIGTERM-to-SIGKILL grace: c0re's SIGKILL is the normal backstop.
    forceExitMs: 30_000,
    async start(defer) {
      const nc = await connectNats({ url: cfg.natsUrl, name: `harness:${cfg.agent}` });
      defer(async () => {
        await drainOrClose(nc, { deadlineMs: DRAIN_DEADLINE_MS, clock, log });
        log.info("stopped");
      });
      const loop = new TurnLoop({
        hive: new NatsBridge({ nc, agent: cfg.agent }),
        log,
        runClaude,
        clock,
        settings: cfg,
      });
      const socket = new SocketServer({
        path: cfg.socketPath,
        handlers: loop.socketHandlers(),
        log,
      });
      await socket.start();
      defer(() => socket.stop());
      await loop.start();
      defer(() => loop.stop());
      log.info({ socket: cfg.socketPath }, "serving");
      return { agent: cfg.agent };
    },
  });
}
