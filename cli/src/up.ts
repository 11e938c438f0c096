import { rmSync } from "node:fs";
import {
  connectNats,
  ErrorCode,
  HiveError,
  type NatsConnection,
  retry,
  retryPolicy,
  systemClock,
} from "@hyperhive/shared";
import { ServiceEventPublisher, serviceEvent, terminalLine } from "./events.js";
import { keepNatsPort, keptNatsPort, operatorToken } from "./identity.js";
import {
  ProcessBook,
  processId,
  readProcessRecord,
  stillRunning,
  stopLeftovers,
} from "./leftovers.js";
import { acquireRootLock } from "./lock.js";
import { ensureOwnerDir, HIVE_UMASK, secureRoot } from "./modes.js";
import {
  type HiveNatsAuth,
  MINTED,
  type Minted,
  prepareNatsAuth,
  rotateKeys,
} from "./nats-auth.js";
import type { Output } from "./output.js";
import { type RootPaths, repoRoot, rootPaths } from "./paths.js";
import { portFree } from "./ports.js";
import { repoRev } from "./rev.js";
import { readRuntime, writeRuntime } from "./runtime.js";
import {
  brokerSpec,
  c0reSpec,
  MAX_STOP_GRACE_MS,
  modelServerSpec,
  natsServerSpec,
  portInUseMessage,
  type ServiceContext,
  schedulerSpec,
  webSpec,
} from "./services.js";
import { Supervisor, type SupervisorEvent } from "./supervisor.js";

export interface UpOptions {
  root: string;
  offline: boolean;
  modelUrl?: string;
  port: number;
  /** Move the NATS keys aside (`private/nats.old-<ts>`) first: every credential is new. */
  rotateKeys?: boolean;
}

/** Restarts: 250 ms, 0.5 s, 1 s, 2 s; the 5th fast failure in a row gives up. */
const RESTART_POLICY = retryPolicy({ initialMs: 250, factor: 2, maxMs: 2000, maxAttempts: 5 });
/** A run this long was healthy: its exit starts a new count (systemd's StartLimitIntervalSec). */
const HEALTHY_AFTER_MS = 10_000;
/** `hive up`'s own NATS connection (for service events) is retried this way until it is made. */
const CONNECT_POLICY = retryPolicy({ initialMs: 250, factor: 2, maxMs: 5000 });
const NATS_SERVER = "nats-server";
/** Signals that stop the hive: a closed terminal (SIGHUP) too. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Whether the agents' claude could talk to Anthropic without a local model server. Only an API
 * key counts: c0re hands ANTHROPIC_API_KEY to every agent, while a `claude` login of the operator
 * (~/.claude) never reaches them — each agent has its own config dir in its state dir.
 */
function claudeAuthConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ANTHROPIC_API_KEY);
}

/**
 * The environment every service starts from. HYPERHIVE_REV is the repository's commit when it is
 * a git checkout, else unset (never inherited: it must name the code that runs). With our own
 * nats-server (`ownNats`) each service gets its own NATS_CREDS, never an inherited one; with an
 * external one (NATS_URL) an inherited NATS_CREDS is the operator's choice and passed on.
 */
function serviceEnv(root: string, rev: string | undefined, ownNats: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HIVE_ROOT: root };
  // Ours to set per child (the lifeline, the credentials) or replaced by the token file.
  delete env.HIVE_LIFELINE;
  delete env.HIVE_WEB_TOKEN;
  delete env.HYPERHIVE_REV;
  delete env.HIVE_NATS_KEYS_DIR;
  if (ownNats) delete env.NATS_CREDS;
  if (rev !== undefined) env.HYPERHIVE_REV = rev;
  return env;
}

/**
 * `hive up`: takes the root's lock, stops what a dead `hive up` of this root left running, then
 * starts nats-server (unless NATS_URL is set), the model server when offline, the broker, the
 * scheduler, c0re (which starts the manager) and the web dashboard, each supervised (restarted
 * with backoff), and runs until SIGINT/SIGTERM/SIGHUP (exit 0) or a service is given up on
 * (exit 1); then stops everything in reverse order. Throws a HiveError when it cannot start at all.
 */
export async function up(o: UpOptions, out: Output): Promise<number> {
  // First: every file and directory `hive up` and its children (who inherit it) make is the
  // operator's alone, whatever umask the shell had.
  process.umask(HIVE_UMASK);
  ensureOwnerDir(o.root);
  const paths = rootPaths(o.root);
  const lock = await acquireRootLock(o.root);
  if (!lock) {
    const pid = readProcessRecord(paths)?.owner.pid ?? readRuntime(o.root, { quiet: true })?.pid;
    throw new HiveError(
      ErrorCode.Conflict,
      `a hive is already running at ${o.root} (pid ${pid ?? "unknown"})`,
    );
  }
  try {
    return await runHive(o, paths, out);
  } finally {
    await lock.release();
  }
}

/** Stops what the last `hive up` of this root left, if it died; refuses if it still runs. */
async function clearPrevious(paths: RootPaths, out: Output): Promise<void> {
  const record = readProcessRecord(paths);
  if (!record) return;
  if (stillRunning(record.owner)) {
    throw new HiveError(
      ErrorCode.Conflict,
      `a hive is already running at ${paths.root} (pid ${record.owner.pid})`,
    );
  }
  const stopped = await stopLeftovers(record, paths.root, MAX_STOP_GRACE_MS);
  if (stopped.length > 0) {
    const list = stopped.map((p) => `${p.service} (pid ${p.pid})`).join(", ");
    out.say(
      `hive: stopped what a hive up that died (pid ${record.owner.pid}) left running: ${list}`,
    );
  }
}

async function runHive(o: UpOptions, paths: RootPaths, out: Output): Promise<number> {
  // Aborted, with the exit code as reason, by a stop signal (0) or a give-up (1). A start in
  // flight is stopped at once, so nothing comes up after the hive began stopping.
  const shutdown = new AbortController();
  const stop = (code: number) => {
    if (!shutdown.signal.aborted) shutdown.abort(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    out.say(`hive: ${signal}: ${shutdown.signal.aborted ? "already stopping" : "stopping"}`);
    stop(0);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);

  const events = new ServiceEventPublisher({ clock: systemClock, warn: (line) => out.say(line) });
  let book: ProcessBook | undefined;
  const onEvent = (e: SupervisorEvent) => {
    if (e.kind === "started") book?.set(e.service, e.pids);
    // Nobody hears events while our NATS is away: hold them until it is back.
    if (e.service === NATS_SERVER && e.kind === "exited") events.hold();
    const line = terminalLine(e);
    if (line) out.say(line);
    const ev = serviceEvent(e, Date.now());
    out.json({ service: ev });
    events.publish(ev);
    if (e.service === NATS_SERVER && e.kind === "started") events.release();
  };
  const supervisor = new Supervisor({
    clock: systemClock,
    policy: RESTART_POLICY,
    healthyAfterMs: HEALTHY_AFTER_MS,
    onEvent,
    onGiveUp: () => stop(1),
  });
  // At once, so a service still starting is stopped and the start sequence ends.
  shutdown.signal.addEventListener("abort", () => void supervisor.stop(), { once: true });

  let code: number;
  let wroteRuntime = false;
  try {
    await clearPrevious(paths, out);
    secureRoot(paths);
    const owner = processId(process.pid);
    if (owner) book = new ProcessBook(paths, owner);
    rmSync(paths.runtimeFile, { force: true });
    if (o.port !== 0 && !(await portFree(o.port))) {
      throw new HiveError(ErrorCode.Conflict, portInUseMessage(o.port));
    }
    const token = operatorToken(paths);
    let natsUrl = process.env.NATS_URL;
    const ctx: ServiceContext = {
      paths,
      env: serviceEnv(o.root, await repoRev(repoRoot), !natsUrl),
    };
    let auth: HiveNatsAuth | undefined;
    if (natsUrl) {
      if (o.rotateKeys) out.say("hive: --rotate-keys does nothing with NATS_URL: no keys of ours");
      out.say(
        `hive: NATS_URL is set: using the nats-server at ${natsUrl}, whose authentication hive up does not configure (no credentials of the hive's; connections are not confined)`,
      );
    } else {
      if (o.rotateKeys) {
        const old = rotateKeys(paths);
        if (old) out.say(`hive: new NATS keys; the old ones are kept in ${old}`);
      }
      auth = await prepareNatsAuth(paths);
      const a = auth;
      ctx.nats = {
        keysDir: a.keysDir,
        credsFile: (service) => (isMinted(service) ? a.credsFile(service) : undefined),
        serverConfig: () => a.serverConfig(),
      };
      const kept = keptNatsPort(paths);
      if (kept !== undefined && !(await portFree(kept))) {
        throw new HiveError(
          ErrorCode.Conflict,
          `the hive's NATS port ${kept} is in use by another process; stop it, or delete ${paths.natsPortFile} to give this hive a new port`,
        );
      }
      const nats = natsServerSpec(ctx, kept);
      await supervisor.add(nats);
      if (kept === undefined && nats.port !== undefined) keepNatsPort(paths, nats.port);
      natsUrl = nats.url ?? "";
    }
    ctx.env.NATS_URL = natsUrl;
    // Ours as the supervisor (it may only publish service events), or an inherited NATS_CREDS.
    const supervisorCreds = auth ? auth.credsFile("supervisor") : ctx.env.NATS_CREDS;
    const operatorCreds = auth ? auth.credsFile("operator") : ctx.env.NATS_CREDS;
    void connectEvents(natsUrl, supervisorCreds, events, shutdown.signal);

    let modelUrl = o.offline ? undefined : o.modelUrl;
    if (!modelUrl && (o.offline || !claudeAuthConfigured(process.env))) {
      if (!o.offline) out.say("hive: no --model-url or ANTHROPIC_API_KEY: running offline");
      const model = modelServerSpec(ctx);
      await supervisor.add(model);
      modelUrl = model.url;
    }
    await supervisor.add(brokerSpec(ctx));
    // Before c0re: the agents' reminder tools answer from their first turn, and at a stop the
    // scheduler goes after the agents, so none of them finds it gone.
    await supervisor.add(schedulerSpec(ctx));
    const c0re = c0reSpec(ctx, modelUrl);
    await supervisor.add(c0re);
    const driver = c0re.driver ?? "unknown";
    out.say(`hive: ${driverLine(driver)}`);
    const web = webSpec(ctx, o.port);
    await supervisor.add(web);
    const webUrl = web.url ?? "";
    shutdown.signal.throwIfAborted();

    writeRuntime(o.root, {
      pid: process.pid,
      nats_url: natsUrl,
      web_url: webUrl,
      token,
      ...(operatorCreds === undefined ? {} : { nats_creds: operatorCreds }),
      started_at: Date.now(),
    });
    wroteRuntime = true;
    const dashboard = `${webUrl}/?token=${token}`;
    out.json({
      up: {
        root: o.root,
        pid: process.pid,
        nats_url: natsUrl,
        web_url: webUrl,
        dashboard,
        driver,
        nats_auth: auth !== undefined,
      },
    });
    out.text(`hive is up at ${o.root}${modelUrl ? ` (model: ${modelUrl})` : ""}`);
    out.text(`dashboard: ${dashboard}`);
    out.text(`token: ${token}`);
    out.text(`logs: ${paths.logsDir}`);
    out.text("Ctrl-C stops the hive.");
    await new Promise((resolve) => shutdown.signal.addEventListener("abort", resolve));
    code = shutdown.signal.reason === 0 ? 0 : 1;
  } catch (e) {
    if (shutdown.signal.aborted) code = shutdown.signal.reason === 0 ? 0 : 1;
    else {
      out.fail(e);
      code = 1;
    }
  }
  stop(code);
  await Promise.all([events.close(), supervisor.stop()]);
  if (wroteRuntime) rmSync(paths.runtimeFile, { force: true });
  book?.remove();
  for (const s of STOP_SIGNALS) process.off(s, onSignal);
  out.json({ stopped: { code } });
  return code;
}

/** Whether `service` is one `hive up` mints credentials for. */
function isMinted(service: string): service is Minted {
  return MINTED.some((m) => m === service);
}

/** What the operator is told of c0re's sandbox driver. */
export function driverLine(driver: string): string {
  return driver === "process"
    ? "agents run as plain processes (the process driver: no sandbox)"
    : `agents run in the ${driver} sandbox`;
}

/** Connects `hive up`'s own NATS connection for service events, retrying until it is made. */
async function connectEvents(
  url: string,
  credsFile: string | undefined,
  events: ServiceEventPublisher,
  signal: AbortSignal,
): Promise<void> {
  let nc: NatsConnection;
  try {
    nc = await retry(() => connectNats({ url, name: "hive-up", credsFile }), {
      policy: CONNECT_POLICY,
      clock: systemClock,
      signal,
    });
  } catch {
    return; // Stopping before NATS ever answered: there is nothing to tell.
  }
  if (signal.aborted) await nc.close();
  else events.attach(nc);
}
