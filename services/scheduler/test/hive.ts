import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  type Db,
  openDatabase,
  publishEvent,
  type ReadyLine,
  Roster,
  rpcs,
  type Service,
  type ServiceProcess,
  serve,
  startService,
  subjects,
} from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  repoRoot,
  TestClock,
  tempDir,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { Scheduler, type SchedulerOptions } from "../src/scheduler.js";
import { migrations, type ReminderStore } from "../src/store.js";
import { api } from "./helpers.js";

/** The built entry points, as `hive up` runs them. */
export const SCHEDULER_MAIN = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));
export const BROKER_MAIN = join(repoRoot(import.meta.url), "services/broker/dist/src/main.js");

/** The agents of the hive the tests run, as c0re's roster lists them. */
export const AGENTS = ["alice", "bob", "carol", "dave"];

/** Stands in for c0re: answers `hive.c0re.roster` and publishes roster events. */
export class RosterStandIn {
  agents: string[];
  at = 1;
  readonly #nc: NatsConnection;
  readonly #service: Service;

  constructor(nc: NatsConnection, agents: string[]) {
    this.#nc = nc;
    this.agents = agents;
    this.#service = serve(nc, subjects.c0re.roster, rpcs.roster, () => ({
      agents: this.agents,
      at: this.at,
    }));
  }

  /** A newer roster, published as c0re does. */
  set(agents: string[]): void {
    this.agents = agents;
    this.at++;
    publishEvent(this.#nc, subjects.events.roster, Roster, { agents, at: this.at });
  }

  stop(): Promise<void> {
    return this.#service.stop();
  }
}

/** The built broker as a child process on `dbPath`. */
export function spawnBroker(natsUrl: string, dbPath: string): Promise<ServiceProcess> {
  return startService({
    name: "broker",
    command: process.execPath,
    args: [BROKER_MAIN],
    env: { ...process.env, NATS_URL: natsUrl, BROKER_DB: dbPath, HIVE_LOG_LEVEL: "warn" },
    readyTimeoutMs: 30_000,
    keepOutput: 8000,
  });
}

/** The built scheduler as a child process on `dbPath`. */
export function spawnScheduler(
  natsUrl: string,
  dbPath: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess & { readonly readyLine: ReadyLine }> {
  return startService({
    name: "scheduler",
    command: process.execPath,
    args: [SCHEDULER_MAIN],
    env: {
      ...process.env,
      NATS_URL: natsUrl,
      HIVE_SCHEDULER_DB: dbPath,
      HIVE_LOG_LEVEL: "warn",
      ...env,
    },
    readyTimeoutMs: 30_000,
    keepOutput: 16_000,
  });
}

/** A message the broker stored, as the tests look at it. */
export interface StoredMail {
  id: number;
  sender: string;
  recipient: string;
  body: string;
  client_id: string | null;
}

/** Every message in a broker's sqlite file (read beside the running broker: WAL). */
export function brokerMail(dbPath: string): StoredMail[] {
  const db = openDatabase(dbPath, []);
  try {
    return db
      .prepare<[], StoredMail>(
        "SELECT id, sender, recipient, body, client_id FROM messages ORDER BY id",
      )
      .all();
  } finally {
    db.close();
  }
}

/** How many of `owner`'s reminders have a delivery recorded, read from the scheduler's file. */
export function deliveredIn(dbPath: string, owner: string): number {
  const db = openDatabase(dbPath, []);
  try {
    const row = db
      .prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM reminders WHERE owner = ? AND delivered_count > 0",
      )
      .get(owner);
    return row?.n ?? 0;
  } finally {
    db.close();
  }
}

/**
 * A real nats-server, c0re's stand-in, the built broker as a child process, and an in-process
 * scheduler on a test clock (due times and retries pass when the test advances it). The
 * scheduler can be stopped and started again on the same file, the broker too.
 */
export interface Hive {
  server: NatsServerHandle;
  /** The tests' own connection (operator, agents, watchers). */
  nc: NatsConnection;
  roster: RosterStandIn;
  clock: TestClock;
  dir: string;
  brokerDb: string;
  schedulerDb: string;
  scheduler: Scheduler;
  db: Db;
  /** Starts a scheduler (stopping the running one first) on the same file and clock. */
  restartScheduler(opts?: Partial<SchedulerOptions>): Promise<Scheduler>;
  stopScheduler(): Promise<void>;
  startBroker(): Promise<void>;
  stopBroker(): Promise<void>;
  close(): Promise<void>;
}

export async function startHive(opts: Partial<SchedulerOptions> = {}): Promise<Hive> {
  const server = await natsForTests();
  const dir = tempDir("hive-scheduler-");
  const nc = await connect({ servers: server.url });
  const roster = new RosterStandIn(nc, [...AGENTS]);
  await nc.flush();
  const brokerDb = join(dir.path, "broker.sqlite");
  const schedulerDb = join(dir.path, "scheduler.sqlite");
  const clock = new TestClock();
  const log = createLogger("scheduler", { level: "silent" });
  let broker: ServiceProcess | undefined = await spawnBroker(server.url, brokerDb);
  let running: { scheduler: Scheduler; db: Db; nc: NatsConnection } | undefined;

  const stopScheduler = async (): Promise<void> => {
    if (!running) return;
    const r = running;
    running = undefined;
    await r.scheduler.stop();
    await r.nc.drain();
    r.db.close();
  };
  const startScheduler = async (more: Partial<SchedulerOptions> = {}): Promise<Scheduler> => {
    await stopScheduler();
    const db = openDatabase(schedulerDb, migrations);
    const snc = await connect({ servers: server.url });
    const scheduler = new Scheduler({ nc: snc, db, log, clock, ...opts, ...more });
    await scheduler.start();
    running = { scheduler, db, nc: snc };
    return scheduler;
  };
  await startScheduler();

  const hive: Hive = {
    server,
    nc,
    roster,
    clock,
    dir: dir.path,
    brokerDb,
    schedulerDb,
    get scheduler() {
      if (!running) throw new Error("no scheduler is running");
      return running.scheduler;
    },
    get db() {
      if (!running) throw new Error("no scheduler is running");
      return running.db;
    },
    restartScheduler: startScheduler,
    stopScheduler,
    async startBroker() {
      broker ??= await spawnBroker(server.url, brokerDb);
    },
    async stopBroker() {
      await broker?.stop(5000);
      broker = undefined;
    },
    async close() {
      await stopScheduler();
      await broker?.stop(5000);
      await roster.stop();
      await nc.drain();
      await server.stop();
      dir.remove();
    },
  };
  return hive;
}

/** A {@link Hive} for the tests of one describe block, with the requests on its connection. */
export interface HiveFixture {
  readonly h: Hive;
  readonly a: ReturnType<typeof api>;
}

/** Starts a {@link Hive} before the tests of the calling describe block and closes it after. */
export function useHive(opts: Partial<SchedulerOptions> = {}): HiveFixture {
  let hive: Hive | undefined;
  beforeAll(async () => {
    hive = await startHive(opts);
  });
  afterAll(async () => {
    await hive?.close();
  });
  const started = (): Hive => {
    if (!hive) throw new Error("the hive is not started (use it inside a test)");
    return hive;
  };
  return {
    get h() {
      return started();
    },
    get a() {
      return api(started().nc);
    },
  };
}

/**
 * `n` reminders for `owner` (every other one repeating hourly), all due at `dueAt`, written
 * straight into a store as if set earlier; returns their ids.
 */
export function insertDue(store: ReminderStore, owner: string, n: number, dueAt: number): number[] {
  return store.durably(() =>
    Array.from(
      { length: n },
      (_, i) =>
        store.insert({
          owner,
          body: `due together ${i}`,
          createdBy: "operator",
          createdAt: dueAt - 1000,
          dueAt,
          everySeconds: i % 2 === 0 ? 3600 : null,
        }).id,
    ),
  );
}
