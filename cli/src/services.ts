import { existsSync } from "node:fs";
import { join } from "node:path";
import { type ServiceName, writeFileAtomic } from "@hyperhive/shared";
import { z } from "zod";
import { type Child, StartError, spawnChild } from "./child.js";
import { bundledClaude, entryPoints, promptsDir, type RootPaths } from "./paths.js";
import type { ServiceSpec } from "./supervisor.js";

/**
 * How `hive up` starts each of its services: entry point, arguments, environment, deadlines.
 * Each spec is started again by the supervisor after an exit, with what the clients of the hive
 * hold on to kept the same: nats-server's port, the model server's URL, the web's port.
 */

/** How long each service may take to print its ready line. c0re starts the manager first. */
const READY_MS: Record<string, number> = {
  "nats-server": 15_000,
  "model-server": 20_000,
  broker: 20_000,
  scheduler: 20_000,
  c0re: 90_000,
  web: 20_000,
};
/** SIGTERM → SIGKILL grace per service; c0re needs time to stop its agents. */
const STOP_GRACE_MS: Record<string, number> = { c0re: 30_000 };
const DEFAULT_GRACE_MS = 10_000;

/** The longest grace of any service: how long leftovers of a dead hive get before SIGKILL. */
export const MAX_STOP_GRACE_MS = Math.max(DEFAULT_GRACE_MS, ...Object.values(STOP_GRACE_MS));

/** web's exit code when its port is taken (services/web/README.md). */
export const WEB_EXIT_PORT_IN_USE = 3;

/** The hive's NATS authentication, when `hive up` runs its nats-server (see nats-auth.ts). */
export interface NatsAuthContext {
  /** The `.creds` file a service connects with (NATS_CREDS); undefined: it connects to none. */
  credsFile(service: string): string | undefined;
  /** `<root>/private/nats`: c0re mints the agents' credentials from its keys. */
  keysDir: string;
  /** The auth part of nats-server's config, made again at each start (revocations change). */
  serverConfig(): Promise<string>;
}

/** What the specs share: where logs go and the environment every service starts from. */
export interface ServiceContext {
  paths: RootPaths;
  /** HIVE_ROOT, and NATS_URL once it is known; read at each start. */
  env: NodeJS.ProcessEnv;
  /** Absent with a nats-server `hive up` does not run (NATS_URL): no credentials of ours. */
  nats?: NatsAuthContext;
}

/** A spec whose service has a URL clients keep (known after its first start). */
export interface UrlServiceSpec extends ServiceSpec {
  readonly url: string | undefined;
}

const UrlReady = z.object({ url: z.string() });
const NatsReady = z.object({ url: z.string(), port: z.number().int(), pid: z.number().int() });
/** c0re's ready line names its sandbox driver (`process`: none). */
const C0reReady = z.object({ driver: z.string() });

function parseReady<T extends z.ZodType>(schema: T, child: Child): z.infer<T> {
  const r = schema.safeParse(child.ready);
  if (!r.success) {
    void child.stop();
    throw new StartError(`${child.name}: unexpected ready line ${JSON.stringify(child.ready)}`);
  }
  return r.data;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function startNode(
  ctx: ServiceContext,
  name: ServiceName,
  entry: string,
  args: string[],
  extraEnv: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<Child> {
  if (!existsSync(entry)) {
    throw new StartError(`${name} is not built (${entry} missing); run npm run build`, {
      permanent: true,
    });
  }
  const creds = ctx.nats?.credsFile(name);
  return spawnChild({
    name,
    command: process.execPath,
    args: [entry, ...args],
    env: { ...ctx.env, ...(creds === undefined ? {} : { NATS_CREDS: creds }), ...extraEnv },
    logFile: join(ctx.paths.servicesLogDir, `${name}.log`),
    readyTimeoutMs: READY_MS[name] ?? 20_000,
    stopGraceMs: STOP_GRACE_MS[name] ?? DEFAULT_GRACE_MS,
    signal,
  });
}

/**
 * nats-server, under our guard (nats-guard.ts holds its lifeline), on `port` (undefined: a free
 * one, then that one for every restart); `port` and `url` say which, once it has started. With
 * `ctx.nats` its config carries the hive's auth (`<root>/nats/auth.conf`, written at each start).
 */
export function natsServerSpec(
  ctx: ServiceContext,
  port: number | undefined,
): UrlServiceSpec & { readonly port: number | undefined } {
  let url: string | undefined;
  return {
    name: "nats-server",
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    async start(signal) {
      const log = join(ctx.paths.servicesLogDir, "nats-server.log");
      const args = ["--dir", ctx.paths.natsDir, `--port=${port ?? -1}`, "--log", log];
      if (ctx.nats) {
        const auth = join(ctx.paths.natsDir, "auth.conf");
        writeFileAtomic(auth, `${await ctx.nats.serverConfig()}\n`, { mode: 0o600 });
        args.push("--auth", auth);
      }
      const child = await startNode(ctx, "nats-server", entryPoints.natsGuard, args, {}, signal);
      const ready = parseReady(NatsReady, child);
      port = ready.port;
      url = ready.url;
      return { ...child, pids: [child.pid, ready.pid] };
    },
  };
}

/**
 * A service with a URL clients keep: `run` gets the URL of its first run (undefined the first
 * time) and must listen there again.
 */
function urlServiceSpec(
  name: ServiceName,
  run: (url: string | undefined, signal: AbortSignal) => Promise<Child>,
): UrlServiceSpec {
  let url: string | undefined;
  return {
    name,
    get url() {
      return url;
    },
    async start(signal) {
      const child = await run(url, signal);
      url = parseReady(UrlReady, child).url;
      return child;
    },
  };
}

/** The scripted model server (offline), on the port it got first for every restart. */
export function modelServerSpec(ctx: ServiceContext): UrlServiceSpec {
  return urlServiceSpec("model-server", (url, signal) => {
    const args = ["--port", String(url === undefined ? 0 : portOf(url))];
    return startNode(ctx, "model-server", entryPoints.modelServer, args, {}, signal);
  });
}

/** A service with nothing of its own to keep across restarts: no arguments, no extra env. */
function plainSpec(ctx: ServiceContext, name: ServiceName, entry: string): ServiceSpec {
  return { name, start: (signal) => startNode(ctx, name, entry, [], {}, signal) };
}

/** The broker: durable inboxes in `db/broker.sqlite`. */
export function brokerSpec(ctx: ServiceContext): ServiceSpec {
  return plainSpec(ctx, "broker", entryPoints.broker);
}

/**
 * The scheduler (reminders): its own sqlite under the root (`db/scheduler.sqlite`), delivering
 * through the broker. Its limits come from the environment `hive up` runs in
 * (`HIVE_REMINDERS_MAX_PENDING`, `_RATE_PER_MIN`, `_BURST`, `_RETENTION_DAYS`).
 */
export function schedulerSpec(ctx: ServiceContext): ServiceSpec {
  return plainSpec(ctx, "scheduler", entryPoints.scheduler);
}

/**
 * c0re, which starts the manager; its agents use `modelUrl` when there is one. With the hive's
 * keys (`ctx.nats`) it mints each agent's credentials. `driver` is the sandbox driver it said it
 * uses, once it has started.
 */
export function c0reSpec(
  ctx: ServiceContext,
  modelUrl: string | undefined,
): ServiceSpec & { readonly driver: string | undefined } {
  const claude = process.env.HIVE_CLAUDE_BIN ?? bundledClaude();
  const env: NodeJS.ProcessEnv = {
    HIVE_HARNESS_BIN: entryPoints.harness,
    HIVE_PROMPTS_DIR: process.env.HIVE_PROMPTS_DIR ?? promptsDir,
    ...(claude ? { HIVE_CLAUDE_BIN: claude } : {}),
    ...(modelUrl ? { HIVE_MODEL_URL: modelUrl } : {}),
    ...(ctx.nats ? { HIVE_NATS_KEYS_DIR: ctx.nats.keysDir } : {}),
  };
  let driver: string | undefined;
  return {
    name: "c0re",
    get driver() {
      return driver;
    },
    async start(signal) {
      const child = await startNode(ctx, "c0re", entryPoints.c0re, [], env, signal);
      driver = parseReady(C0reReady, child).driver;
      return child;
    },
  };
}

/** The operator's message when the dashboard's port is taken. */
export function portInUseMessage(port: number): string {
  return `port ${port} is in use; use --port`;
}

/**
 * The web dashboard on `port` (0: a free one, then that one for every restart), reading the
 * operator token from its file. A taken port (web's exit 3) is a permanent failure.
 */
export function webSpec(ctx: ServiceContext, port: number): UrlServiceSpec {
  return urlServiceSpec("web", async (url, signal) => {
    const listen = url === undefined ? port : portOf(url);
    const env = {
      HIVE_WEB_TOKEN_FILE: ctx.paths.tokenFile,
      HIVE_WEB_PORT: String(listen),
      HIVE_WEB_HOST: "127.0.0.1",
    };
    try {
      return await startNode(ctx, "web", entryPoints.web, [], env, signal);
    } catch (e) {
      if (e instanceof StartError && e.exit?.code === WEB_EXIT_PORT_IN_USE) {
        throw new StartError(portInUseMessage(listen), { exit: e.exit, permanent: true });
      }
      throw e;
    }
  });
}
