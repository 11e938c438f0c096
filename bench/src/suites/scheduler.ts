/**
 * The scheduler benchmark, self-contained: its own nats-server, the built broker and the built
 * scheduler as child processes on temp sqlite files, and a stand-in for c0re's roster. In one run:
 *   lateness   due -> inbox of `due` reminders falling due over `windowMs`, while `pending` others
 *              are pending, seen as the broker's announcements on `hive.inbox.<agent>` (and, to
 *              tell the scheduler's part from the broker's, due -> its `hive.sched.send`);
 *   baseline   bare setTimeout lateness of `due` timers among `pending` set in this process;
 *   idle       the scheduler's CPU over `idleMs` with all of them pending, and its RSS.
 * The `pending` background reminders are written into the scheduler's sqlite before it starts
 * (100,000 creation requests would measure the creation path, not the timer); the measured ones
 * are created through `hive.op.remind` with the pending cap raised by env, so the live path —
 * a request, the commit, the timer re-armed — is what they go through.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  decodeJson,
  InboxAnnouncement,
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
import { z } from "zod";
import { cpuMs } from "../cpu.js";
import { atMost, inParallel, type Stats, stats, type Target } from "../stats.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BROKER_MAIN = here("../../../../services/broker/dist/src/main.js");
const SCHEDULER_MAIN = here("../../../../services/scheduler/dist/src/main.js");

/** The agent whose reminders are timed; the background ones belong to others. */
const DUE_AGENT = "due";
const BACKGROUND_AGENTS = 100;
/** Background reminders fall due a day ahead and later: never inside the run. */
const BACKGROUND_AHEAD_MS = 86_400_000;
/** Untimed reminders due over the second before the measured ones (see the warm-up). */
const WARM_UP = 50;
/** Time given to create the measured reminders before the first falls due. */
const CREATE_ALLOWANCE_MS = 6000;

export interface SchedulerBenchOptions {
  /** Reminders pending beside the measured ones; default 100,000. */
  pending?: number;
  /** Reminders (and timers) falling due during the window; default 1,000. */
  due?: number;
  /** The window they fall due in, ms; default 10,000. */
  windowMs?: number;
  /** How long the idle CPU is measured, ms; default 10,000. */
  idleMs?: number;
  /** Progress lines (to stderr in the runner). */
  progress?: (line: string) => void;
}

export interface SchedulerBenchResult {
  pending: number;
  due: number;
  window_ms: number;
  /**
   * due -> the owner's parked recv returns it, ms: when the agent wakes (its harness long-polls
   * recv, acks, polls again, as in the hive). The broker hands a message to a parked recv at its
   * commit, before the fsync the send's acknowledgement waits for. The target's figure.
   */
  scheduler_due_to_wake: Stats;
  /** due -> announcement on `hive.inbox.<agent>`, ms (a delivery is committed and fsynced). */
  scheduler_due_to_inbox: Stats;
  /** due -> the scheduler's `hive.sched.send` seen here: its own part, before the broker's. */
  scheduler_due_to_send: Stats;
  /** setTimeout's own lateness, `due` timers among `pending` + `due` in this process, ms. */
  settimeout_lateness: Stats;
  /**
   * Raw sqlite commits fsynced (the broker's settings, as `sqlite_commit`), one per reminder at the same pace, on the
   * same disk during the same window, ms: the floor under due -> inbox, where the broker commits
   * each delivery durably (a slow fsync of the disk shows in both).
   */
  raw_durable_commit: Stats;
  /** The measured reminders' creation through `hive.op.remind`, 16 in flight, ms each. */
  create: Stats;
  /** The scheduler's CPU time over `idle_ms` with everything pending, ms. */
  idle_cpu_ms: number;
  idle_ms: number;
  /** The scheduler's resident set, MiB: after start (all pending) and at the end. */
  rss_mib_start: number;
  rss_mib_end: number;
  targets: {
    /** p99 lateness (due -> wake) <= setTimeout's p99 + 5 ms. */
    p99_lateness_ms: Target;
    /** idle CPU ~0: at most 20 ms (two clock ticks) in `idle_ms`. */
    idle_cpu_ms: Target;
  };
}

/** The reminder a delivery's text (body or preview) starts with: `reminder #<id>: ...`. */
const reminderId = (text: string): number => Number(/^reminder #(\d+):/.exec(text)?.[1]);

/** Unix ms with the fraction: `Date.now()` is whole milliseconds. */
const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * How far {@link nowMs} runs ahead of the wall clock the scheduler reads (`Date.now()`):
 * `timeOrigin` is fixed at process start while the wall clock is slewed. Read right as
 * `Date.now()` ticks, where it is exact; the smallest of 20 readings.
 */
function wallClockOffset(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i++) {
    const from = Date.now();
    let now = Date.now();
    while (now === from) now = Date.now();
    best = Math.min(best, nowMs() - now);
  }
  return best;
}

/** Durable sqlite commits at the reminders' pace in a worker thread (see raw-commit-worker.ts). */
function rawDurableCommits(dir: string, n: number, gapMs: number): Promise<number[]> {
  const worker = new Worker(here("../raw-commit-worker.js"), { workerData: { dir, n, gapMs } });
  return new Promise((resolve, reject) => {
    worker.once("message", (took: unknown) => resolve(z.array(z.number()).parse(took)));
    worker.once("error", reject);
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : Number.NaN;
}

function child(name: string, main: string, natsUrl: string, env: Record<string, string>) {
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

/** Writes `n` background reminders (far ahead) into a migrated scheduler file. */
function seedBackground(dbPath: string, n: number): void {
  const db = openDatabase(dbPath, []);
  const insert = db.prepare(
    `INSERT INTO reminders (owner, body, created_by, created_at, due_at, every_seconds)
     VALUES (?, ?, 'operator', ?, ?, ?)`,
  );
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const due = now + BACKGROUND_AHEAD_MS + ((i * 7919) % n) * 1000;
      insert.run(`bg${i % BACKGROUND_AGENTS}`, `background ${i}`, now, due, i % 3 ? null : 3600);
    }
  })();
  db.close();
}

/** setTimeout's lateness: `due` timers over the window among `pending` far ones. */
async function setTimeoutLateness(pending: number, due: number, windowMs: number) {
  const far = Array.from({ length: pending }, (_, i) =>
    setTimeout(() => {}, 3_600_000 + (i % 1000)),
  );
  const start = nowMs() + 1000;
  const late: number[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < due; i++) {
      const at = start + (i * windowMs) / due;
      setTimeout(() => {
        late.push(nowMs() - at);
        if (late.length === due) resolve();
      }, at - nowMs());
    }
  });
  for (const t of far) clearTimeout(t);
  return late;
}

/** Runs the scheduler benchmark; see the file's comment. */
export async function schedulerBench(o: SchedulerBenchOptions = {}): Promise<SchedulerBenchResult> {
  const pending = o.pending ?? 100_000;
  const due = o.due ?? 1000;
  const windowMs = o.windowMs ?? 10_000;
  const idleMs = o.idleMs ?? 10_000;
  const say = o.progress ?? (() => {});
  const dir = tempDir("hive-bench-scheduler-");
  const server = await startNatsServer();
  const procs: ServiceProcess[] = [];
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: server.url, name: "bench-scheduler" });
    const agents = [DUE_AGENT, ...Array.from({ length: BACKGROUND_AGENTS }, (_, i) => `bg${i}`)];
    // Stands in for c0re: broker and scheduler ask who is in the hive when they start.
    serve(nc, subjects.c0re.roster, rpcs.roster, () => ({ agents, at: 1 }));
    await nc.flush();
    procs.push(await child("broker", BROKER_MAIN, server.url, { BROKER_DB: join(dir.path, "b") }));
    const dbPath = join(dir.path, "scheduler.sqlite");
    const env = {
      HIVE_SCHEDULER_DB: dbPath,
      HIVE_REMINDERS_MAX_PENDING: String(pending + due + WARM_UP),
    };
    // A first start creates the file; the background is written while it is stopped.
    await (await child("scheduler", SCHEDULER_MAIN, server.url, env)).stop(10_000);
    say(`writing ${pending} pending reminders…`);
    seedBackground(dbPath, pending);
    const scheduler = await child("scheduler", SCHEDULER_MAIN, server.url, env);
    procs.push(scheduler);
    const pid = scheduler.child.pid;
    if (pid === undefined) throw new Error("the scheduler has no pid");
    const rssStart = rssMiB(pid);

    say(`setTimeout: ${due} timers over ${windowMs} ms among ${pending}…`);
    const baseline = stats(await setTimeoutLateness(pending, due, windowMs));

    say(`scheduler: ${due} reminders over ${windowMs} ms among ${pending} pending…`);
    const dueAt = new Map<number, number>();
    const warmUp = new Set<number>();
    /** Subtracted from {@link nowMs} readings: due times are on the scheduler's clock. */
    let offset = 0;
    const late: number[] = [];
    const sent: number[] = [];
    let allIn: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    const conn = nc;
    conn.subscribe(subjects.inbox(DUE_AGENT), {
      callback: (_err, msg) => {
        const t = nowMs() - offset;
        const ann = InboxAnnouncement.parse(decodeJson(msg.data));
        const id = reminderId(ann.preview);
        if (warmUp.has(id)) return;
        const at = dueAt.get(id);
        if (at === undefined) throw new Error(`an announcement of no reminder: ${ann.preview}`);
        late.push(t - at);
        if (late.length === due) allIn();
      },
    });
    // The agent: one recv parked at a time, each message acked before the next recv.
    const woke: number[] = [];
    let allWoke: () => void = () => {};
    const wokeAll = new Promise<void>((resolve) => {
      allWoke = resolve;
    });
    const polling = new AbortController();
    const agentLoop = (async () => {
      while (!polling.signal.aborted) {
        const r = await request(
          conn,
          subjects.agent.recv(DUE_AGENT),
          rpcs.recv,
          { wait_seconds: 5 },
          { timeoutMs: 35_000, signal: polling.signal },
        ).catch((e: unknown) => {
          if (polling.signal.aborted) return undefined;
          throw e;
        });
        if (r?.message == null) continue;
        const t = nowMs() - offset;
        const at = dueAt.get(reminderId(r.message.body));
        if (at !== undefined && woke.push(t - at) === due) allWoke();
        await request(conn, subjects.agent.ack(DUE_AGENT), rpcs.ack, { id: r.message.id });
      }
    })();
    // A second subscriber on the broker's subject sees each delivery as it leaves the scheduler.
    conn.subscribe(subjects.sched.send, {
      callback: (_err, msg) => {
        const t = nowMs() - offset;
        const req = rpcs.send.request.parse(decodeJson(msg.data));
        const at = dueAt.get(reminderId(req.body));
        if (at !== undefined) sent.push(t - at);
      },
    });
    await conn.flush();
    const first = Date.now() + CREATE_ALLOWANCE_MS;
    // Warm-up, as the broker's suites have: reminders due over the second before the window take
    // the cold path (JIT, the broker's first fsync of its WAL, the first recv) and are not timed.
    for (let i = 0; i < WARM_UP; i++) {
      const r = await request(conn, subjects.op.remind, rpcs.opRemind, {
        agent: DUE_AGENT,
        body: `warm-up ${i}`,
        at: new Date(first - 1000 + Math.round((i * 1000) / WARM_UP)).toISOString(),
      });
      warmUp.add(r.reminder.id);
    }
    const create: number[] = [];
    await inParallel(16, async (w) => {
      for (let i = w; i < due; i += 16) {
        const at = Math.round(first + (i * windowMs) / due);
        const t0 = performance.now();
        const r = await request(conn, subjects.op.remind, rpcs.opRemind, {
          agent: DUE_AGENT,
          body: `timed ${i}`,
          at: new Date(at).toISOString(),
        });
        create.push(performance.now() - t0);
        dueAt.set(r.reminder.id, at);
      }
    });
    if (Date.now() >= first) throw new Error("creating the reminders took past the first due");
    offset = wallClockOffset();
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now())));
    const raw = rawDurableCommits(dir.path, due, windowMs / due);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      arrived,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${late.length} of ${due} reminders arrived`)),
          CREATE_ALLOWANCE_MS + windowMs + 30_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    // Every announced delivery is received too (the last one may still be on its way).
    let wokeTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      wokeAll,
      new Promise<void>((resolve) => {
        wokeTimer = setTimeout(resolve, 10_000);
      }),
    ]);
    clearTimeout(wokeTimer);
    polling.abort();
    await agentLoop;
    if (woke.length !== due) throw new Error(`the agent received ${woke.length} of ${due}`);
    const lateness = stats(late);
    const wake = stats(woke);
    const rawCommits = stats(await raw);

    say(`idle: the scheduler's CPU over ${idleMs} ms with ${pending} pending…`);
    await new Promise((r) => setTimeout(r, 1000));
    const cpu0 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, idleMs));
    const idleCpu = cpuMs(pid) - cpu0;
    const rssEnd = rssMiB(pid);

    return {
      pending,
      due,
      window_ms: windowMs,
      scheduler_due_to_wake: wake,
      scheduler_due_to_inbox: lateness,
      scheduler_due_to_send: stats(sent),
      settimeout_lateness: baseline,
      raw_durable_commit: rawCommits,
      create: stats(create),
      idle_cpu_ms: idleCpu,
      idle_ms: idleMs,
      rss_mib_start: rssStart,
      rss_mib_end: rssEnd,
      targets: {
        p99_lateness_ms: atMost(wake.p99_ms, Math.round((baseline.p99_ms + 5) * 1000) / 1000),
        idle_cpu_ms: atMost(idleCpu, 20),
      },
    };
  } finally {
    // Each step runs even if an earlier one throws: nothing is left running.
    await nc?.drain().catch((e: unknown) => console.error("drain:", e));
    for (const p of procs.reverse()) {
      await p.stop(10_000).catch((e: unknown) => console.error("stop:", e));
    }
    await server.stop();
    dir.remove();
  }
}
