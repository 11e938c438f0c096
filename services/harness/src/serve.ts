import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connectNats, createLogger } from "@hyperhive/shared";
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

  const nc = await connectNats({ url: cfg.natsUrl, name: `harness:${cfg.agent}` });
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
    },
  });
  const socket = new SocketServer({
    path: cfg.socketPath,
    handler: (req) => loop.handleSocket(req),
    log,
  });
  await socket.start();
  loop.start();

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    (async () => {
      await loop.stop();
      await socket.stop();
      await nc.drain().catch((e: unknown) => log.warn({ err: e }, "drain failed"));
      log.info("stopped");
      process.exit(0);
    })().catch((e: unknown) => {
      log.error({ err: e }, "stop failed");
      process.exit(1);
    });
  };
  // `on`, not `once`: execa's exit cleanup (signal-exit) re-raises a signal when it is the only
  // listener left, which would kill us before the orderly stop finishes.
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  process.stdout.write(`${JSON.stringify({ ready: "harness", agent: cfg.agent })}\n`);
  log.info({ socket: cfg.socketPath }, "serving");
}
