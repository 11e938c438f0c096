import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BaseEnv,
  connectNats,
  createLogger,
  defaultHiveRoot,
  hivePaths,
  loadConfig,
  ModelName,
  openDatabase,
  runService,
} from "@hyperhive/shared";
import { z } from "zod";
import { NatsAgentCredentials } from "./agent-credentials.js";
import { BwrapDriver } from "./bwrap-driver.js";
import { C0re } from "./c0re.js";
import type { ContainerDriver } from "./driver.js";
import { ProcessDriver, type ProcessDriverOptions } from "./process-driver.js";
import { DEFAULT_RESTART_ALL_IDLE_MS } from "./restart-all.js";
import { AgentUids, probeSandbox } from "./sandbox.js";
import { migrations } from "./schema.js";

/** services/c0re/dist/src → the repo root. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

const optionalString = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined));
const ms = (dflt: number) => z.coerce.number().int().positive().default(dflt);

const Env = BaseEnv.extend({
  /** c0re's sqlite file; default `<root>/db/c0re.sqlite`. */
  C0RE_DB: optionalString,
  /** The harness entry point run per agent. */
  HIVE_HARNESS_BIN: z.string().min(1).default(join(repoRoot, "services/harness/dist/src/main.js")),
  HIVE_PROMPTS_DIR: z.string().min(1).default(join(repoRoot, "prompts")),
  HIVE_CLAUDE_BIN: optionalString,
  /** The harnesses' fallback model, and the model of meta's defaults when meta is created. */
  HIVE_MODEL: ModelName.optional(),
  /** An Anthropic Messages API URL; becomes the agents' ANTHROPIC_BASE_URL. */
  HIVE_MODEL_URL: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  /**
   * NATS URL(s) handed to the agents' harnesses; default NATS_URL. On a cluster each host's agents
   * may use a nearer node (or a list of nodes to fail over to) than c0re's own.
   */
  HIVE_AGENT_NATS_URL: optionalString,
  /**
   * The hive's NATS keys (`hive up` keeps them in `<root>/private/nats`): when set, c0re mints
   * each agent's credentials into its run dir and revokes them when it is destroyed.
   */
  HIVE_NATS_KEYS_DIR: optionalString,
  /** How agents run: `auto` is bwrap when a probe sandbox works here, else process (logged). */
  HIVE_DRIVER: z.enum(["auto", "bwrap", "process"]).default("auto"),
  /** ms a harness gets to print its ready line. */
  C0RE_READY_TIMEOUT_MS: ms(30_000),
  /** ms between SIGTERM and SIGKILL when stopping a harness. */
  C0RE_STOP_GRACE_MS: ms(5_000),
  /** ms restart-all waits for the restarted manager to be idle again before the others. */
  C0RE_RESTART_ALL_IDLE_MS: ms(DEFAULT_RESTART_ALL_IDLE_MS),
});

const cfg = loadConfig(Env);

/** The driver HIVE_DRIVER asks for; `auto` probes bwrap and says which it took and why. */
function chooseDriver(o: ProcessDriverOptions, uids: AgentUids): ContainerDriver {
  if (cfg.HIVE_DRIVER === "process") return new ProcessDriver(o);
  const probe = probeSandbox();
  if (!probe.usable) {
    // Asked for by name: running the agents unsandboxed instead would be a silent downgrade.
    if (cfg.HIVE_DRIVER === "bwrap") throw new Error(`HIVE_DRIVER=bwrap: ${probe.reason}`);
    log.warn({ reason: probe.reason }, "bwrap unusable: agents run unsandboxed (process driver)");
    return new ProcessDriver(o);
  }
  log.info({ user: probe.user }, "agents run in bwrap sandboxes");
  return new BwrapDriver({ ...o, uids, keep: [repoRoot] });
}
const log = createLogger("c0re", { level: cfg.HIVE_LOG_LEVEL });
const root = resolve(cfg.HIVE_ROOT ?? defaultHiveRoot());

await runService({
  name: "c0re",
  log,
  // c0re's stop waits for its harnesses, each of which may take the stop grace.
  forceExitMs: cfg.C0RE_STOP_GRACE_MS + 15_000,
  async start(defer) {
    const db = openDatabase(cfg.C0RE_DB ?? hivePaths(root).db("c0re"), migrations);
    defer(() => db.close());
    const nc = await connectNats({ url: cfg.NATS_URL, name: "c0re", credsFile: cfg.NATS_CREDS });
    defer(() => nc.drain());
    const driverOptions: ProcessDriverOptions = {
      root,
      harnessBin: cfg.HIVE_HARNESS_BIN,
      natsUrl: cfg.HIVE_AGENT_NATS_URL ?? cfg.NATS_URL,
      promptsDir: cfg.HIVE_PROMPTS_DIR,
      ...(cfg.HIVE_CLAUDE_BIN ? { claudeBin: cfg.HIVE_CLAUDE_BIN } : {}),
      ...(cfg.HIVE_MODEL ? { model: cfg.HIVE_MODEL } : {}),
      ...(cfg.HIVE_MODEL_URL ? { modelUrl: cfg.HIVE_MODEL_URL } : {}),
      ...(cfg.ANTHROPIC_API_KEY ? { apiKey: cfg.ANTHROPIC_API_KEY } : {}),
      agentCredentials: cfg.HIVE_NATS_KEYS_DIR !== undefined,
      readyTimeoutMs: cfg.C0RE_READY_TIMEOUT_MS,
      stopGraceMs: cfg.C0RE_STOP_GRACE_MS,
      log,
    };
    const driver = chooseDriver(driverOptions, new AgentUids(db));
    const c0re = new C0re({
      nc,
      db,
      driver,
      log,
      root,
      restartAllIdleMs: cfg.C0RE_RESTART_ALL_IDLE_MS,
      ...(cfg.HIVE_NATS_KEYS_DIR
        ? {
            credentials: new NatsAgentCredentials({
              root,
              keysDir: cfg.HIVE_NATS_KEYS_DIR,
              natsUrl: cfg.NATS_URL,
              log,
            }),
          }
        : {}),
      ...(cfg.HIVE_MODEL ? { defaultModel: cfg.HIVE_MODEL } : {}),
    });
    // Before start: a signal while the manager is still starting stops it too.
    defer(() => c0re.stop());
    await c0re.start();
    log.info({ root, harness: cfg.HIVE_HARNESS_BIN, driver: driver.kind }, "c0re serving");
    return { driver: driver.kind };
  },
});
