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
import { Scheduler } from "./scheduler.js";
import { migrations } from "./store.js";

const Env = BaseEnv.extend({
  /** The scheduler's sqlite file; default `<HIVE_ROOT>/db/scheduler.sqlite`. */
  HIVE_SCHEDULER_DB: z.string().min(1).optional(),
  /** Pending reminders one agent may have at once, whoever set them. */
  HIVE_REMINDERS_MAX_PENDING: z.coerce.number().int().positive().default(100),
  /** Reminders an agent may set for itself per minute, on average (its bucket's refill). */
  HIVE_REMINDERS_RATE_PER_MIN: z.coerce.number().positive().default(10),
  /** ...and at once after a quiet spell (its bucket's size). */
  HIVE_REMINDERS_BURST: z.coerce.number().int().positive().default(20),
  /** Delivered and cancelled reminders are deleted after this many days; 0 keeps them all. */
  HIVE_REMINDERS_RETENTION_DAYS: z.coerce.number().min(0).default(30),
});

/** Give up on a graceful stop after this long and exit non-zero. */
const FORCE_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const env = loadConfig(Env);
  const log = createLogger("scheduler", { level: env.HIVE_LOG_LEVEL });
  const dbPath = resolve(
    env.HIVE_SCHEDULER_DB ?? hivePaths(defaultHiveRoot(process.env)).db("scheduler"),
  );
  const limits = {
    maxPending: env.HIVE_REMINDERS_MAX_PENDING,
    ratePerMinute: env.HIVE_REMINDERS_RATE_PER_MIN,
    burst: env.HIVE_REMINDERS_BURST,
  };

  await runService({
    name: "scheduler",
    log,
    forceExitMs: FORCE_EXIT_MS,
    async start(defer) {
      const db = openDatabase(dbPath, migrations, { synchronous: "NORMAL" });
      defer(() => db.close());
      // Checkpoints (and their fsyncs) off the event loop: out of the latency tail.
      const checkpointer = BackgroundCheckpointer.start(db, { log });
      defer(() => checkpointer?.close());
      const nc = await connectNats({
        url: env.NATS_URL,
        name: "scheduler",
        credsFile: env.NATS_CREDS,
      });
      defer(() => nc.drain());
      const retentionMs = env.HIVE_REMINDERS_RETENTION_DAYS * 86_400_000;
      const scheduler = new Scheduler({ nc, db, log, limits, retentionMs });
      await scheduler.start();
      defer(() => scheduler.stop());
      const pending = scheduler.store.pendingTotal();
      log.info({ db: dbPath, nats: env.NATS_URL, pending, limits }, "scheduler ready");
      return { db: dbPath, pending };
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`scheduler: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
