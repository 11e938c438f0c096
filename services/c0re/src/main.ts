import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BaseEnv,
  connectNats,
  createLogger,
  defaultHiveRoot,
  hivePaths,
  loadConfig,
  openDatabase,
} from "@hyperhive/shared";
import { z } from "zod";
import { C0re } from "./c0re.js";
import { ProcessDriver } from "./process-driver.js";
import { migrations } from "./registry.js";

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
  HIVE_MODEL: optionalString,
  /** An Anthropic Messages API URL; becomes the agents' ANTHROPIC_BASE_URL. */
  HIVE_MODEL_URL: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  /** ms a harness gets to print its ready line. */
  C0RE_READY_TIMEOUT_MS: ms(30_000),
  /** ms between SIGTERM and SIGKILL when stopping a harness. */
  C0RE_STOP_GRACE_MS: ms(5_000),
});

const cfg = loadConfig(Env);
const log = createLogger("c0re", { level: cfg.HIVE_LOG_LEVEL });
const root = resolve(cfg.HIVE_ROOT ?? defaultHiveRoot());
const db = openDatabase(cfg.C0RE_DB ?? hivePaths(root).db("c0re"), migrations);
const nc = await connectNats({ url: cfg.NATS_URL, name: "c0re" });
const driver = new ProcessDriver({
  root,
  harnessBin: cfg.HIVE_HARNESS_BIN,
  natsUrl: cfg.NATS_URL,
  promptsDir: cfg.HIVE_PROMPTS_DIR,
  ...(cfg.HIVE_CLAUDE_BIN ? { claudeBin: cfg.HIVE_CLAUDE_BIN } : {}),
  ...(cfg.HIVE_MODEL ? { model: cfg.HIVE_MODEL } : {}),
  ...(cfg.HIVE_MODEL_URL ? { modelUrl: cfg.HIVE_MODEL_URL } : {}),
  ...(cfg.ANTHROPIC_API_KEY ? { apiKey: cfg.ANTHROPIC_API_KEY } : {}),
  readyTimeoutMs: cfg.C0RE_READY_TIMEOUT_MS,
  stopGraceMs: cfg.C0RE_STOP_GRACE_MS,
  log,
});
const c0re = new C0re({ nc, db, driver, log, root });

// Installed once, removed on the first signal: a second Ctrl-C does not start a second stop.
const onSignal = (signal: NodeJS.Signals) => {
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  log.info({ signal }, "stopping");
  setTimeout(() => {
    log.error("graceful stop took too long; exiting");
    process.exit(1);
  }, cfg.C0RE_STOP_GRACE_MS + 15_000).unref();
  void (async () => {
    await c0re.stop();
    await nc.drain();
    db.close();
  })().then(
    () => process.exit(0),
    (e: unknown) => {
      log.error({ err: e }, "unclean stop");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);

await c0re.start();
log.info({ root, harness: cfg.HIVE_HARNESS_BIN, driver: driver.kind }, "c0re serving");
process.stdout.write(`${JSON.stringify({ ready: "c0re", driver: driver.kind })}\n`);
