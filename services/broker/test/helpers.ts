import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  type Db,
  decodeJson,
  type ExitInfo,
  encodeJson,
  openDatabase,
  publishEvent,
  Roster,
  startService,
  subjects,
  type WireError,
} from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  TestClock,
  tempDir,
  waitUntil,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Broker, type BrokerOptions } from "../src/broker.js";
import { migrations } from "../src/store.js";

/** The built entry point, as other packages run it. */
export const BROKER_MAIN = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));

/** The agents the tests mail, as c0re's roster would list them. */
export const AGENTS = ["alice", "bob", "carol", "dave", "mallory"];

/**
 * A real nats-server, a client connection and an in-process broker on a temp sqlite file, on a
 * test clock (leases and long-poll waits pass when the test advances it).
 */
export interface Harness {
  server: NatsServerHandle;
  nc: NatsConnection;
  db: Db;
  broker: Broker;
  clock: TestClock;
  dbPath: string;
  close(): Promise<void>;
}

/** Publishes a roster event as c0re does; resolves once the broker goes by it. */
export async function publishRoster(
  nc: NatsConnection,
  broker: Broker,
  agents: string[],
  at = Date.now(),
): Promise<void> {
  publishEvent(nc, subjects.events.roster, Roster, { agents, at });
  await waitUntil(() => broker.roster !== undefined && agents.every((a) => broker.roster?.has(a)), {
    what: "the broker to take the roster",
  });
}

export async function startHarness(opts: Pick<BrokerOptions, "retention"> = {}): Promise<Harness> {
  const server = await natsForTests();
  const dir = tempDir("hive-broker-");
  const dbPath = join(dir.path, "broker.sqlite");
  const db = openDatabase(dbPath, migrations);
  const brokerNc = await connect({ servers: server.url });
  const nc = await connect({ servers: server.url });
  const clock = new TestClock();
  const log = createLogger("broker", { level: "silent" });
  const broker = new Broker({ nc: brokerNc, db, log, clock, ...opts });
  await broker.start();
  await publishRoster(nc, broker, AGENTS);
  return {
    server,
    nc,
    db,
    broker,
    clock,
    dbPath,
    async close() {
      await broker.stop();
      await brokerNc.drain();
      await nc.drain();
      db.close();
      await server.stop();
      dir.remove();
    },
  };
}

/** Sends raw bytes (no client-side validation) and returns the decoded reply. */
export async function raw(
  nc: NatsConnection,
  subject: string,
  payload: string | Uint8Array | object,
  timeoutMs = 5000,
): Promise<unknown> {
  const data =
    typeof payload === "string" || payload instanceof Uint8Array ? payload : encodeJson(payload);
  const reply = await nc.request(subject, data, { timeout: timeoutMs });
  return decodeJson(reply.data);
}

/** The `error` of a reply, or a failed assertion if the reply is not an error. */
export function wireError(reply: unknown): WireError {
  const err = (reply as { error?: WireError }).error;
  if (!err) throw new Error(`expected an error reply, got ${JSON.stringify(reply)}`);
  return err;
}

/** Every row of the messages and receipts tables, to compare before/after. */
export function snapshot(db: Db): unknown[] {
  return [
    ...db.prepare("SELECT * FROM messages ORDER BY id").all(),
    ...db.prepare("SELECT * FROM receipts ORDER BY message_id, recipient").all(),
  ];
}

/** Rows of the messages table alone. */
export function messageRows(db: Db): unknown[] {
  return db.prepare("SELECT * FROM messages ORDER BY id").all();
}

/** The broker's main.js running as a child process. */
export interface BrokerProcess {
  child: ChildProcess;
  /** Settles with the exit code and signal. */
  exited: Promise<ExitInfo>;
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`; a no-op once it has exited. */
  stop(graceMs: number): Promise<unknown>;
}

/** Spawns the built broker and resolves once it printed its ready line. */
export async function spawnBroker(natsUrl: string, dbPath: string): Promise<BrokerProcess> {
  const p = await startService({
    name: "broker",
    command: process.execPath,
    args: [BROKER_MAIN],
    env: { ...process.env, NATS_URL: natsUrl, BROKER_DB: dbPath, HIVE_LOG_LEVEL: "warn" },
    readyTimeoutMs: 30_000,
    keepOutput: 8000,
  });
  return {
    child: p.child,
    exited: p.exited,
    stderr: () => p.output(),
    stop: (graceMs) => p.stop(graceMs),
  };
}
