import { resolve } from "node:path";
import {
  BackgroundCheckpointer,
  BaseEnv,
  connectNats,
  createLogger,
  defaultHiveRoot,
  hivePaths,
  loadConfig,
  openDatabase,
  runService,
} from "@hyperhive/shared";
import { z } from "zod";
import { Broker } from "./broker.js";
import { migrations } from "./store.js";

const Env = BaseEnv.extend({
  /** The broker's sqlite file; default `<HIVE_ROOT>/db/broker.sqlite`. */
  BROKER_DB: z.string().min(1).optional(),
  /** Delivered mail (every receipt acked) older than this many days is deleted; 0 keeps it all. */
  HIVE_BROKER_RETENTION_DAYS: z.coerce.number().min(0).default(30),
});

/** Give up on a graceful stop after this long and exit non-zero. */
const FORCE_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const env = loadConfig(Env);
  const log = createLogger("broker", { level: env.HIVE_LOG_LEVEL });
  const dbPath = resolve(env.BROKER_DB ?? hivePaths(defaultHiveRoot(process.env)).db("broker"));

  await runService({
    name: "broker",
    log,
    forceExitMs: FORCE_EXIT_MS,
    async start(defer) {
      // NORMAL: the broker fsyncs the WAL itself, off the event loop, before a send is
      // acknowledged (see CommitQueue).
      const db = openDatabase(dbPath, migrations, { synchronous: "NORMAL" });
      defer(() => db.close());
      // Checkpoints (and their fsyncs) off the event loop: out of the latency tail.
      const checkpointer = BackgroundCheckpointer.start(db, { log });
      defer(() => checkpointer?.close());
      const nc = await connectNats({
        url: env.NATS_URL,
        name: "broker",
        credsFile: env.NATS_CREDS,
      });
      defer(() => nc.drain());
      const broker = new Broker({
        nc,
        db,
        log,
        retention: { maxAgeMs: env.HIVE_BROKER_RETENTION_DAYS * 24 * 3600 * 1000 },
      });
      await broker.start();
      defer(() => broker.stop());
      log.info({ db: dbPath, nats: env.NATS_URL }, "broker ready");
      return { db: dbPath };
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
