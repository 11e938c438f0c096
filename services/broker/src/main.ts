import { resolve } from "node:path";
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
import { Broker } from "./broker.js";
import { migrations } from "./store.js";

const Env = BaseEnv.extend({
  /** The broker's sqlite file; default `<HIVE_ROOT>/db/broker.sqlite`. */
  BROKER_DB: z.string().min(1).optional(),
});

/** Give up on a graceful stop after this long and exit non-zero. */
const FORCE_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const env = loadConfig(Env);
  const log = createLogger("broker", { level: env.HIVE_LOG_LEVEL });
  const dbPath = resolve(env.BROKER_DB ?? hivePaths(defaultHiveRoot(process.env)).db("broker"));

  const db = openDatabase(dbPath, migrations, { synchronous: "FULL" });
  const nc = await connectNats({ url: env.NATS_URL, name: "broker" });
  const broker = new Broker({ nc, db, log });
  await broker.start();

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.off("SIGTERM", shutdown);
    process.off("SIGINT", shutdown);
    log.info({ signal }, "stopping");
    setTimeout(() => {
      log.error("graceful stop took too long; exiting");
      process.exit(1);
    }, FORCE_EXIT_MS).unref();
    (async () => {
      await broker.stop();
      await nc.drain();
      db.close();
      process.exit(0);
    })().catch((e: unknown) => {
      log.error({ err: e }, "stop failed");
      process.exit(1);
    });
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  log.info({ db: dbPath, nats: env.NATS_URL }, "broker ready");
  process.stdout.write(`${JSON.stringify({ ready: "broker", db: dbPath })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
