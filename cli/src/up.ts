import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { findNatsServer, type HiveRuntime, hivePaths } from "@hyperhive/shared";
import { type Child, StartError, spawnChild } from "./child.js";
import { bundledClaude, entryPoints, promptsDir } from "./paths.js";
import { readRuntime } from "./runtime.js";

export interface UpOptions {
  root: string;
  offline: boolean;
  modelUrl?: string;
  port: number;
}

/** How long each service may take to print its ready line. c0re starts the manager first. */
const READY_MS = { nats: 15_000, model: 20_000, broker: 20_000, c0re: 90_000, web: 20_000 };
/** SIGTERM → SIGKILL grace per service; c0re needs time to stop its agents. */
const STOP_GRACE_MS = { default: 10_000, c0re: 30_000 };

/**
 * Whether the agents' claude could talk to Anthropic without a local model server. Only an API
 * key counts: c0re hands ANTHROPIC_API_KEY to every agent, while a `claude` login of the operator
 * (~/.claude) never reaches them — each agent has its own config dir in its state dir.
 */
function claudeAuthConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ANTHROPIC_API_KEY);
}

/**
 * `hive up`: starts nats-server (unless NATS_URL is set), the model server when offline, the
 * broker, c0re (which starts the manager) and the web dashboard, writes `<root>/hive.json`, and
 * runs until SIGINT/SIGTERM, then stops everything in reverse order. Resolves with the exit code.
 */
export async function up(o: UpOptions): Promise<number> {
  const paths = hivePaths(o.root);
  const existing = readRuntime(o.root, { quiet: true });
  if (existing) {
    console.error(`hive: a hive is already running at ${o.root} (pid ${existing.pid})`);
    return 1;
  }
  const logsDir = join(paths.logsDir, "services");
  mkdirSync(logsDir, { recursive: true });
  const logFile = (name: string) => join(logsDir, `${name}.log`);

  const started: Child[] = [];
  const grace = (name: string) => (name === "c0re" ? STOP_GRACE_MS.c0re : STOP_GRACE_MS.default);
  // Aborted, with the exit code as reason, by SIGINT/SIGTERM (0) or a service dying on its own
  // (1). A start in flight is stopped at once, so nothing comes up after the hive began stopping.
  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown.signal.aborted) {
      console.error(`hive: ${signal}: already stopping`);
      return;
    }
    console.error(`hive: ${signal}: stopping`);
    shutdown.abort(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const env: NodeJS.ProcessEnv = { ...process.env, HIVE_ROOT: o.root };
  const node = (
    name: string,
    entry: string,
    args: string[],
    extra: NodeJS.ProcessEnv,
    ms: number,
  ) => {
    if (!existsSync(entry)) {
      throw new StartError(`${name} is not built (${entry} missing); run npm run build`);
    }
    return spawnChild({
      name,
      command: process.execPath,
      args: [entry, ...args],
      env: { ...env, ...extra },
      logFile: logFile(name),
      readyTimeoutMs: ms,
      stopGraceMs: grace(name),
      signal: shutdown.signal,
    });
  };
  const add = (c: Child) => {
    started.push(c);
    void c.exited.then((why) => {
      if (shutdown.signal.aborted) return;
      console.error(`hive: ${c.name} exited unexpectedly (${why}); stopping the hive`);
      shutdown.abort(1);
    });
    return c;
  };

  let code: number;
  let wroteRuntime = false;
  try {
    let natsUrl = process.env.NATS_URL;
    if (!natsUrl) {
      const nats = await startNats(paths.natsDir, logFile("nats"), shutdown.signal);
      add(nats.child);
      natsUrl = nats.url;
    }
    env.NATS_URL = natsUrl;

    let modelUrl = o.offline ? undefined : o.modelUrl;
    if (!modelUrl && (o.offline || !claudeAuthConfigured(process.env))) {
      if (!o.offline) {
        console.error("hive: no --model-url or ANTHROPIC_API_KEY: running offline");
      }
      const model = add(
        await node("model-server", entryPoints.modelServer, ["--port", "0"], {}, READY_MS.model),
      );
      modelUrl = String(model.ready.url);
    }

    add(await node("broker", entryPoints.broker, [], {}, READY_MS.broker));

    const claude = process.env.HIVE_CLAUDE_BIN ?? bundledClaude();
    add(
      await node(
        "c0re",
        entryPoints.c0re,
        [],
        {
          HIVE_HARNESS_BIN: entryPoints.harness,
          HIVE_PROMPTS_DIR: process.env.HIVE_PROMPTS_DIR ?? promptsDir,
          ...(claude ? { HIVE_CLAUDE_BIN: claude } : {}),
          ...(modelUrl ? { HIVE_MODEL_URL: modelUrl } : {}),
        },
        READY_MS.c0re,
      ),
    );

    const token = randomBytes(24).toString("base64url");
    const web = add(
      await node(
        "web",
        entryPoints.web,
        [],
        { HIVE_WEB_TOKEN: token, HIVE_WEB_PORT: String(o.port), HIVE_WEB_HOST: "127.0.0.1" },
        READY_MS.web,
      ),
    );
    const webUrl = String(web.ready.url);
    shutdown.signal.throwIfAborted();

    const runtime: HiveRuntime = {
      pid: process.pid,
      nats_url: natsUrl,
      web_url: webUrl,
      token,
      started_at: Date.now(),
    };
    writeRuntime(paths.runtimeFile, runtime);
    wroteRuntime = true;
    console.log(`hive is up at ${o.root}${modelUrl ? ` (model: ${modelUrl})` : ""}`);
    console.log(`dashboard: ${webUrl}/?token=${token}`);
    console.log(`token: ${token}`);
    console.log(`logs: ${paths.logsDir}`);
    console.log("Ctrl-C stops the hive.");
    await new Promise((resolve) => shutdown.signal.addEventListener("abort", resolve));
    code = shutdown.signal.reason as number;
  } catch (e) {
    if (shutdown.signal.aborted) code = shutdown.signal.reason as number;
    else {
      console.error(`hive: ${e instanceof Error ? e.message : String(e)}`);
      code = 1;
    }
  }
  for (const c of started.reverse()) await c.stop(grace(c.name));
  if (wroteRuntime) rmSync(paths.runtimeFile, { force: true });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return code;
}

/**
 * Writes `<root>/hive.json` (it holds the operator token): readable by the owner only, also
 * when a stale file of a dead hive is in the way, and atomically, so a concurrent `hive agents`
 * never reads half of it.
 */
function writeRuntime(file: string, runtime: HiveRuntime): void {
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${JSON.stringify(runtime, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * A nats-server for this hive: `port: -1` (a free port, so it never collides with a system
 * NATS on 4222), the port read back from its ports file, JetStream stored under the root.
 */
async function startNats(
  dir: string,
  logFile: string,
  signal: AbortSignal,
): Promise<{ child: Child; url: string }> {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith(".ports")) rmSync(join(dir, f));
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    [
      "host: 127.0.0.1",
      "port: -1",
      `ports_file_dir: ${JSON.stringify(dir)}`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }`,
      "",
    ].join("\n"),
  );
  // The ports file may show up before nats-server has finished writing it.
  const port = (): string | undefined => {
    const f = readdirSync(dir).find((n) => n.endsWith(".ports"));
    if (!f) return undefined;
    try {
      const ports = JSON.parse(readFileSync(join(dir, f), "utf8")) as { nats?: string[] };
      return ports.nats?.[0] ? new URL(ports.nats[0]).port : undefined;
    } catch {
      return undefined;
    }
  };
  const child = await spawnChild({
    name: "nats",
    command: findNatsServer(),
    args: ["-c", conf],
    env: process.env,
    logFile,
    readyTimeoutMs: READY_MS.nats,
    readyTest: () => port() !== undefined,
    stopGraceMs: STOP_GRACE_MS.default,
    signal,
  });
  return { child, url: `nats://127.0.0.1:${port()}` };
}
