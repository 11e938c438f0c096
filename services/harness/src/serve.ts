import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connectNats, createLogger, runService } from "@hyperhive/shared";
import { NatsBridge } from "./bridge.js";
import { loadHarnessConfig } from "./config.js";
import { writeBootFiles } from "./files.js";
import { runClaude } from "./run-claude.js";
import { SocketServer } from "./socket.js";
import { TurnLoop } from "./turn-loop.js";

/** `main.js serve`: the composition root of the turn loop. */
export async function serveMain(harnessMain: string): Promise<void> {
  const cfg = loadHarnessConfig();
  const log = createLogger(`harness:${cfg.agent}`, { level: cfg.logLevel });
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

  await runService({
    name: "harness",
    log,
    // Longer than c0re's SIGTERM-to-SIGKILL grace: c0re's SIGKILL is the normal backstop.
    forceExitMs: 30_000,
    async start(defer) {
      const nc = await connectNats({ url: cfg.natsUrl, name: `harness:${cfg.agent}` });
      defer(async () => {
        await nc.drain().catch((e: unknown) => log.warn({ err: e }, "drain failed"));
        log.info("stopped");
      });
      const hive = new NatsBridge({ nc, agent: cfg.agent });
      const loop = new TurnLoop({
        hive,
        log,
        runClaude,
        settings: {
          stateDir: cfg.stateDir,
          runDir: cfg.runDir,
          claudeBin: cfg.claudeBin,
          claudeHome: cfg.claudeHome,
          defaultModel: cfg.defaultModel,
          leaseSeconds: cfg.leaseSeconds,
          loginRetrySeconds: cfg.loginRetrySeconds,
          turnAttempts: cfg.turnAttempts,
          turnRetrySeconds: cfg.turnRetrySeconds,
        },
      });
      const socket = new SocketServer({
        path: cfg.socketPath,
        handler: (req, signal) => loop.handleSocket(req, signal),
        log,
      });
      await socket.start();
      defer(() => socket.stop());
      loop.start();
      defer(() => loop.stop());
      log.info({ socket: cfg.socketPath }, "serving");
      return { agent: cfg.agent };
    },
  });
}
