/**
 * The broker benchmarks. Starts a real nats-server, the built broker (a child process on a temp
 * db) and a raw NATS echo responder (a child process too), stands in for c0re's roster, and
 * measures each broker figure beside its baseline in the same run:
 *   latency     send->recv (a parked recv) vs raw request/reply, at 1, 16 and 64 in flight;
 *   throughput  durable sends/s vs raw requests/s, at 1, 16 and 64 in flight;
 *   broadcast   one broadcast to 1,000 parked agents vs one raw publish to 1,000 subscriptions;
 *   herd        sends to an agent with 2,000 parked recvs vs to one with none (and broker CPU);
 *   sqlite      one INSERT + commit in WAL with synchronous FULL (the cost of an fsync);
 *   scheduler   due->inbox lateness with 100,000 reminders pending vs bare setTimeout lateness
 *               among as many timers, its idle CPU and RSS (suites/scheduler.ts).
 * `BENCH_SUITES=broker` or `=scheduler` runs one half. Prints the figures with their targets and
 * writes JSON to bench/results/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rpcs, type ServiceProcess, serve, startService, subjects } from "@hyperhive/shared";
import { startNatsServer, tempDir } from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { durableCommits } from "./sqlite-commits.js";
import { atLeast, atMost, ratio, type Stats, stats, type Target } from "./stats.js";
import { agentConnections, broadcast } from "./suites/broadcast.js";
import { herd } from "./suites/herd.js";
import { latency } from "./suites/latency.js";
import { ECHO_SUBJECT } from "./suites/mail.js";
import { type SchedulerBenchResult, schedulerBench } from "./suites/scheduler.js";
import { throughput } from "./suites/throughput.js";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
if (!Number.isSafeInteger(ITERATIONS) || ITERATIONS < 64) {
  console.error(`BENCH_ITERATIONS must be an integer >= 64, got ${process.env.BENCH_ITERATIONS}`);
  process.exit(2);
}
const IN_FLIGHT = [1, 16, 64] as const;
const THROUGHPUT_SENDS = Math.max(1000, ITERATIONS * 2);
const BROADCAST_AGENTS = 1000;
const BROADCAST_ROUNDS = 10;
const HERD_PARKED = 2000;
const HERD_SENDS = 200;

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BROKER_MAIN = here("../../../services/broker/dist/src/main.js");
const ECHO_MAIN = here("./echo.js");
const RESULTS_DIR = here("../../results/");

const fanout = Array.from({ length: BROADCAST_AGENTS }, (_, i) => `a${i}`);
const ROSTER = [...fanout, "sender", "sink", "herd", "calm"];

function child(name: string, main: string, natsUrl: string, env: Record<string, string> = {}) {
  return startService({
    name,
    command: process.execPath,
    args: [main],
    env: { ...process.env, NATS_URL: natsUrl, HIVE_LOG_LEVEL: "warn", ...env },
    echoStderr: true,
    lifeline: true,
    readyTimeoutMs: 30_000,
  });
}

const row = (name: string, s: Stats) =>
  `  ${name.padEnd(34)} p50 ${s.p50_ms.toFixed(3).padStart(8)} ms   p99 ${s.p99_ms
    .toFixed(3)
    .padStart(8)} ms`;

async function measure(nc: NatsConnection, url: string, dir: string, brokerPid: number) {
  console.error("warm-up…");
  await latency(nc, 16, 20, "warm-lat");
  await throughput(nc, 16, 500, "warm-tp");

  const lat: Record<string, unknown> = {};
  const tp: Record<string, unknown> = {};
  for (const n of IN_FLIGHT) {
    console.error(`latency at ${n} in flight…`);
    const perWorker = Math.max(20, Math.ceil(ITERATIONS / n));
    const s = await latency(nc, n, perWorker, `lat${n}`);
    const broker = stats(s.sendRecv);
    const nats = stats(s.nats);
    const natsProcess = stats(s.natsProcess);
    lat[n] = {
      broker_send_recv: broker,
      nats_request_reply: nats,
      nats_request_reply_process: natsProcess,
      ratio_p50: ratio(broker.p50_ms, nats.p50_ms),
      ratio_p99: ratio(broker.p99_ms, nats.p99_ms),
      ratio_p50_vs_process: ratio(broker.p50_ms, natsProcess.p50_ms),
    };
    console.log(`latency, ${n} in flight:`);
    console.log(row("broker send->recv", broker));
    console.log(row("raw NATS request/reply", nats));
    console.log(row("raw, responder in its own process", natsProcess));
    console.error(`throughput at ${n} in flight…`);
    const t = await throughput(nc, n, THROUGHPUT_SENDS, `tp${n}`);
    tp[n] = {
      ...t,
      ratio: ratio(t.broker_sends_per_s, t.nats_requests_per_s),
      ratio_vs_process: ratio(t.broker_sends_per_s, t.nats_process_requests_per_s),
    };
    console.log(
      `throughput, ${n} in flight: broker ${t.broker_sends_per_s} durable sends/s, raw NATS ` +
        `${t.nats_requests_per_s} req/s (${ratio(t.broker_sends_per_s, t.nats_requests_per_s)}x); ` +
        `responder in its own process ${t.nats_process_requests_per_s} req/s ` +
        `(${ratio(t.broker_sends_per_s, t.nats_process_requests_per_s)}x)`,
    );
  }

  console.error(`herd: ${HERD_PARKED} parked recvs…`);
  const h = await herd(nc, HERD_PARKED, HERD_SENDS, "herd", brokerPid);
  const herdResult = {
    parked: HERD_PARKED,
    sends: HERD_SENDS,
    send_with_parked: stats(h.parked),
    send_without: stats(h.calm),
    broker_cpu_ms_with_parked: h.cpu_parked_ms,
    broker_cpu_ms_without: h.cpu_calm_ms,
  };
  console.log(`herd, ${HERD_SENDS} sends to an agent with ${HERD_PARKED} parked recvs:`);
  console.log(row("send, recipient with parked recvs", herdResult.send_with_parked));
  console.log(row("send, recipient nobody polls", herdResult.send_without));
  console.log(`  broker CPU: ${h.cpu_parked_ms} ms with parked recvs, ${h.cpu_calm_ms} ms without`);

  console.error(`broadcast to ${BROADCAST_AGENTS} parked agents, each on its own connection…`);
  const conns = await agentConnections(url, BROADCAST_AGENTS);
  const agents = conns.map((c, i) => ({ name: fanout[i]!, nc: c }));
  let b: Awaited<ReturnType<typeof broadcast>>;
  try {
    await broadcast(nc, agents, 2, "warm-bc");
    b = await broadcast(nc, agents, BROADCAST_ROUNDS, "bc");
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
  const bc = {
    agents: BROADCAST_AGENTS,
    rounds: BROADCAST_ROUNDS,
    broker_all_received: stats(b.broker),
    nats_publish_all_received: stats(b.nats),
    nats_publish_each_received: stats(b.natsEach),
    ratio_p50: ratio(stats(b.broker).p50_ms, stats(b.nats).p50_ms),
  };
  console.log(`broadcast to ${BROADCAST_AGENTS} agents, until all have it:`);
  console.log(row("broker (parked recvs)", bc.broker_all_received));
  console.log(row("raw NATS publish to as many subs", bc.nats_publish_all_received));
  console.log(row("raw, one publish per agent", bc.nats_publish_each_received));

  const sqlite = stats(await durableCommits(join(dir, "commit.sqlite"), 1000));
  console.log(row("sqlite commit (WAL, FULL)", sqlite));
  return { lat, tp, herdResult, bc, sqlite };
}

const SUITES = (process.env.BENCH_SUITES ?? "broker,scheduler").split(",");
for (const s of SUITES) {
  if (s !== "broker" && s !== "scheduler") {
    console.error(`BENCH_SUITES lists broker and/or scheduler, got ${s}`);
    process.exit(2);
  }
}

/** The broker's suites, each beside its baseline: their part of the report and their targets. */
async function brokerSuites(): Promise<{ report: object; targets: Record<string, Target> }> {
  const dir = tempDir("hive-bench-");
  const server = await startNatsServer();
  const procs: { name: string; proc: ServiceProcess }[] = [];
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: server.url, name: "bench" });
    // Stands in for c0re: the broker asks who may be mailed when it starts.
    const roster = serve(nc, subjects.c0re.roster, rpcs.roster, () => ({ agents: ROSTER, at: 1 }));
    await nc.flush();
    const broker = await child("broker", BROKER_MAIN, server.url, {
      BROKER_DB: join(dir.path, "broker.sqlite"),
    });
    procs.push({ name: "broker", proc: broker });
    procs.push({ name: "echo", proc: await child("echo", ECHO_MAIN, server.url) });
    // The raw baseline the broker's targets were set against: a responder on this connection.
    nc.subscribe(ECHO_SUBJECT.local, {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await nc.flush();
    const pid = broker.child.pid;
    if (pid === undefined) throw new Error("the broker has no pid");

    const m = await measure(nc, server.url, dir.path, pid);
    await roster.stop();

    const lat1 = m.lat[1] as { ratio_p50: number; broker_send_recv: Stats };
    const tp64 = m.tp[64] as { ratio: number };
    return {
      report: {
        nats_server: nc.info?.version ?? null,
        latency: m.lat,
        throughput: m.tp,
        herd: m.herdResult,
        broadcast: m.bc,
        sqlite_commit: m.sqlite,
      },
      targets: {
        throughput_64_vs_nats: atLeast(tp64.ratio, 0.8),
        send_recv_p50_vs_nats: atMost(lat1.ratio_p50, 3),
        send_recv_p99_ms: atMost(lat1.broker_send_recv.p99_ms, 5),
        broadcast_1000_vs_nats: atMost(m.bc.ratio_p50, 2),
      },
    };
  } finally {
    // Each step runs even if an earlier one throws: nothing is left running.
    await nc?.drain().catch((e: unknown) => console.error("drain:", e));
    for (const { name, proc } of procs.reverse()) {
      await proc.stop(10_000).catch((e: unknown) => console.error(`${name} stop:`, e));
    }
    await server.stop();
    dir.remove();
  }
}

/** The scheduler's suite (it starts its own nats-server, broker and scheduler). */
async function schedulerSuite(): Promise<{
  report: SchedulerBenchResult;
  targets: Record<string, Target>;
}> {
  console.error("scheduler: 100,000 pending reminders…");
  const r = await schedulerBench({ progress: (line) => console.error(`  ${line}`) });
  console.log(`scheduler, ${r.due} reminders due among ${r.pending} pending:`);
  console.log(row("due -> the agent wakes (its recv)", r.scheduler_due_to_wake));
  console.log(row("due -> inbox (stored, fsynced)", r.scheduler_due_to_inbox));
  console.log(row("due -> the scheduler's send", r.scheduler_due_to_send));
  console.log(row("bare setTimeout lateness", r.settimeout_lateness));
  console.log(row("raw durable sqlite commit", r.raw_durable_commit));
  console.log(
    `  idle CPU ${r.idle_cpu_ms} ms over ${r.idle_ms / 1000} s; RSS ${r.rss_mib_start} MiB ` +
      `at start, ${r.rss_mib_end} MiB at the end`,
  );
  return {
    report: r,
    targets: {
      scheduler_p99_lateness_ms: r.targets.p99_lateness_ms,
      scheduler_idle_cpu_ms: r.targets.idle_cpu_ms,
    },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const broker = SUITES.includes("broker") ? await brokerSuites() : undefined;
  const scheduler = SUITES.includes("scheduler") ? await schedulerSuite() : undefined;
  const targets = { ...broker?.targets, ...scheduler?.targets };
  console.log("targets:");
  for (const [k, t] of Object.entries(targets)) {
    console.log(
      `  ${k.padEnd(26)} ${String(t.value).padStart(8)}  ${t.target.padEnd(9)} ${t.met ? "met" : "MISSED"}`,
    );
  }
  const date = new Date();
  const report = {
    name: "hyperhive",
    date: date.toISOString(),
    node: process.version,
    platform: `${platform()}-${arch()}`,
    cpu: cpus()[0]?.model ?? null,
    cores: cpus().length,
    iterations: ITERATIONS,
    duration_s: Math.round((performance.now() - started) / 100) / 10,
    suites: SUITES,
    ...broker?.report,
    ...(scheduler ? { scheduler: scheduler.report } : {}),
    targets,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = date.toISOString().replace(/[:.]/g, "-");
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(RESULTS_DIR, `bench-${stamp}.json`);
  writeFileSync(file, json);
  writeFileSync(join(RESULTS_DIR, "latest.json"), json);
  console.log(`wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
