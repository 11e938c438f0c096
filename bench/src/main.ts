/**
 * Broker latency benchmark. Starts a real nats-server and the built broker (a child process on a
 * temp db), then, over ONE client connection and in the same run (the broker and raw NATS samples
 * interleaved, one of each per iteration, so drift hits both alike), measures:
 *   broker_send_recv   — issuing a send to the recv (already long-polling) returning it; the
 *                        message is then acked (timed separately as broker_ack);
 *   nats_request_reply — a raw request/reply round trip to a trivial responder;
 *   sqlite_commit      — one INSERT + commit in WAL with synchronous FULL.
 * Prints p50/p99 and the ratios, and writes JSON to bench/results/.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  openDatabase,
  request,
  rpcs,
  type ServiceProcess,
  serve,
  startService,
  subjects,
} from "@hyperhive/shared";
import { startNatsServer, tempDir } from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
if (!Number.isSafeInteger(ITERATIONS) || ITERATIONS < 1) {
  console.error(`BENCH_ITERATIONS must be a positive integer, got ${process.env.BENCH_ITERATIONS}`);
  process.exit(2);
}
const WARMUP = Math.max(50, Math.floor(ITERATIONS / 10));

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BROKER_MAIN = here("../../../services/broker/dist/src/main.js");
const RESULTS_DIR = here("../../results/");

interface Stats {
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    mean_ms: round(s.reduce((a, b) => a + b, 0) / s.length),
    min_ms: round(s[0]!),
    max_ms: round(s[s.length - 1]!),
  };
}

async function spawnBroker(natsUrl: string, dbPath: string): Promise<ServiceProcess> {
  if (!existsSync(BROKER_MAIN)) {
    throw new Error(`${BROKER_MAIN} is missing: build first (npm run build, or npm run bench)`);
  }
  return startService({
    name: "broker",
    command: process.execPath,
    args: [BROKER_MAIN],
    env: { ...process.env, NATS_URL: natsUrl, BROKER_DB: dbPath, HIVE_LOG_LEVEL: "warn" },
    echoStderr: true,
    readyTimeoutMs: 30_000,
  });
}

interface Samples {
  sendRecv: number[];
  ack: number[];
  nats: number[];
}

/** One broker send->recv (+ ack) and one raw NATS round trip per iteration, on the same `nc`. */
async function benchRoundTrips(nc: NatsConnection, n: number, run: string): Promise<Samples> {
  const out: Samples = { sendRecv: [], ack: [], nats: [] };
  const payload = new TextEncoder().encode(JSON.stringify({ to: "bench", body: "ping" }));
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await nc.request("bench.echo", payload, { timeout: 5000 });
    out.nats.push(performance.now() - t0);

    const polling = request(
      nc,
      subjects.agent.recv("bench"),
      rpcs.recv,
      { wait_seconds: 10 },
      {
        timeoutMs: 15_000,
      },
    );
    // The round trip to the server puts the recv ahead of the send on the broker's connection.
    await nc.flush();
    t0 = performance.now();
    const sent = request(nc, subjects.agent.send("sender"), rpcs.send, {
      to: "bench",
      body: `message ${i}`,
      client_id: `${run}-${i}`,
    });
    sent.catch(() => {}); // awaited below; this only keeps a failure from going unhandled
    const got = await polling;
    const t1 = performance.now();
    const id = (await sent).id;
    if (got.message?.id !== id) throw new Error(`recv returned ${got.message?.id}, sent ${id}`);
    await request(nc, subjects.agent.ack("bench"), rpcs.ack, { id });
    const t2 = performance.now();
    out.sendRecv.push(t1 - t0);
    out.ack.push(t2 - t1);
  }
  return out;
}

function benchSqlite(path: string, n: number): number[] {
  // The broker's own settings (WAL, synchronous FULL), so this is its per-commit floor.
  const db = openDatabase(
    path,
    [
      {
        version: 1,
        sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at INTEGER)",
      },
    ],
    { synchronous: "FULL" },
  );
  const insert = db.prepare("INSERT INTO t (body, at) VALUES (?, ?)");
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    insert.run(`message ${i}`, Date.now()); // autocommit: one transaction, fsynced (FULL)
    out.push(performance.now() - t0);
  }
  db.close();
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = tempDir("hive-bench-");
  const server = await startNatsServer();
  let broker: ServiceProcess | undefined;
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: server.url, name: "bench" });
    // Stands in for c0re: the broker asks who may be mailed when it starts.
    const roster = serve(nc, subjects.c0re.roster, rpcs.roster, () => ({
      agents: ["bench", "sender"],
      at: 1,
    }));
    await nc.flush();
    broker = await spawnBroker(server.url, join(dir.path, "broker.sqlite"));
    const echo = nc.subscribe("bench.echo", {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await nc.flush();

    console.error(`warm-up (${WARMUP})…`);
    await benchRoundTrips(nc, WARMUP, "warmup");
    benchSqlite(join(dir.path, "warm.sqlite"), WARMUP);

    console.error(`measuring (${ITERATIONS} iterations each)…`);
    const run = await benchRoundTrips(nc, ITERATIONS, "measure");
    const sqlite = benchSqlite(join(dir.path, "commit.sqlite"), ITERATIONS);
    echo.unsubscribe();
    await roster.stop();

    const results = {
      broker_send_recv: stats(run.sendRecv),
      broker_ack: stats(run.ack),
      nats_request_reply: stats(run.nats),
      sqlite_commit: stats(sqlite),
    };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const ratios = {
      broker_vs_nats_p50: ratio(results.broker_send_recv.p50_ms, results.nats_request_reply.p50_ms),
      broker_vs_nats_p99: ratio(results.broker_send_recv.p99_ms, results.nats_request_reply.p99_ms),
      broker_vs_nats_plus_sqlite_p50: ratio(
        results.broker_send_recv.p50_ms,
        results.nats_request_reply.p50_ms + results.sqlite_commit.p50_ms,
      ),
    };
    const date = new Date();
    const report = {
      name: "broker-latency",
      date: date.toISOString(),
      node: process.version,
      nats_server: nc.info?.version ?? null,
      platform: `${platform()}-${arch()}`,
      cpu: cpus()[0]?.model ?? null,
      iterations: ITERATIONS,
      warmup: WARMUP,
      duration_s: Math.round((performance.now() - started) / 100) / 10,
      results,
      ratios,
    };

    const row = (name: string, s: Stats) =>
      `${name.padEnd(20)} p50 ${s.p50_ms.toFixed(3).padStart(8)} ms   p99 ${s.p99_ms.toFixed(3).padStart(8)} ms`;
    console.log(row("broker send->recv", results.broker_send_recv));
    console.log(row("broker ack", results.broker_ack));
    console.log(row("nats request/reply", results.nats_request_reply));
    console.log(row("sqlite commit (FULL)", results.sqlite_commit));
    console.log(
      `ratio broker/nats: p50 ${ratios.broker_vs_nats_p50}x, p99 ${ratios.broker_vs_nats_p99}x; ` +
        `broker/(nats+sqlite) p50 ${ratios.broker_vs_nats_plus_sqlite_p50}x`,
    );

    mkdirSync(RESULTS_DIR, { recursive: true });
    const stamp = date.toISOString().replace(/[:.]/g, "-");
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const file = join(RESULTS_DIR, `broker-latency-${stamp}.json`);
    writeFileSync(file, json);
    writeFileSync(join(RESULTS_DIR, "latest.json"), json);
    console.log(`wrote ${file}`);
  } finally {
    // Each step runs even if an earlier one throws: no nats-server or broker is left behind.
    await nc?.drain().catch((e: unknown) => console.error("drain:", e));
    await broker?.stop(10_000).catch((e: unknown) => console.error("broker stop:", e));
    await server.stop();
    dir.remove();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
