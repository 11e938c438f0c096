import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ExitInfo,
  hivePaths,
  type ReadyLine,
  type ServiceProcess,
  startService,
} from "@hyperhive/shared";
import { repoRoot } from "@hyperhive/shared/testing";

export const REPO = repoRoot(import.meta.url);

/** The built entry points the tests run, and the real claude CLI. */
export const BUILT = {
  broker: join(REPO, "services/broker/dist/src/main.js"),
  c0re: join(REPO, "services/c0re/dist/src/main.js"),
  harness: join(REPO, "services/harness/dist/src/main.js"),
  modelServer: join(REPO, "services/model-server/dist/src/main.js"),
  cli: join(REPO, "cli/dist/src/main.js"),
  claude: join(REPO, "node_modules/.bin/claude"),
} as const;

/** The entry points that are not built (or claude, if not installed). */
export function missingBuilds(): string[] {
  return Object.values(BUILT).filter((p) => !existsSync(p));
}

/** Where one hive runs and which NATS servers it uses. */
export interface HiveSpec {
  /** The hive root (a temp dir): databases, agents' state and run dirs, logs. */
  readonly root: string;
  /** NATS URL(s) of the broker and c0re. */
  readonly natsUrl: string;
  /** NATS URL(s) c0re hands to the agents' harnesses (`HIVE_AGENT_NATS_URL`), tried in order. */
  readonly agentNatsUrl: string;
}

type Running = ServiceProcess & { readonly readyLine: ReadyLine };

/** This process's environment without anything of a hive, NATS or model the developer runs. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(HIVE_|NATS_|BROKER_|C0RE_|ANTHROPIC_|CLAUDE_)/.test(k),
    ),
  );
}

function startNode(name: string, main: string, args: string[], env: NodeJS.ProcessEnv) {
  return startService({
    name,
    command: process.execPath,
    args: [main, ...args],
    env,
    readyTimeoutMs: 30_000,
    keepOutput: 64_000,
  });
}

/**
 * A hive of real services as built child processes: the scripted model server, the broker and
 * c0re, which starts the manager (a harness running the real claude CLI against the model
 * server). No web: the operator is the `hive` CLI.
 */
export class Hive {
  /** Stopped in reverse order. */
  private readonly started: { name: string; proc: Running; graceMs: number }[] = [];
  private modelUrl: string | undefined;

  private constructor(readonly spec: HiveSpec) {}

  /** Starts model server, broker and c0re, each once the one before said ready. */
  static async start(spec: HiveSpec): Promise<Hive> {
    const hive = new Hive(spec);
    try {
      await hive.startAll();
    } catch (e) {
      await hive.stop();
      throw e;
    }
    return hive;
  }

  private async startAll(): Promise<void> {
    const { root, natsUrl, agentNatsUrl } = this.spec;
    const env = { ...cleanEnv(), NATS_URL: natsUrl, HIVE_ROOT: root, HIVE_LOG_LEVEL: "info" };
    const model = await this.add("model-server", 5_000, BUILT.modelServer, ["--port", "0"], env);
    const modelUrl = model.readyLine.url;
    if (typeof modelUrl !== "string") throw new Error("model-server's ready line has no url");
    this.modelUrl = modelUrl;
    await this.add("broker", 10_000, BUILT.broker, [], { ...env, BROKER_DB: this.brokerDb });
    await this.add("c0re", 20_000, BUILT.c0re, [], {
      ...env,
      HOME: join(root, "home"),
      HIVE_AGENT_NATS_URL: agentNatsUrl,
      HIVE_MODEL_URL: modelUrl,
      HIVE_CLAUDE_BIN: BUILT.claude,
      HIVE_HARNESS_BIN: BUILT.harness,
      HIVE_PROMPTS_DIR: join(REPO, "prompts"),
      C0RE_STOP_GRACE_MS: "3000",
    });
  }

  private async add(
    name: string,
    graceMs: number,
    main: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<Running> {
    const proc = await startNode(name, main, args, env);
    this.started.push({ name, proc, graceMs });
    return proc;
  }

  /** The broker's sqlite file. */
  get brokerDb(): string {
    return hivePaths(this.spec.root).db("broker");
  }

  /**
   * What to read when a test failed: every service's output, the manager's log, and what claude
   * asked the model server (its request log: prompts, tool calls and their results).
   */
  async output(): Promise<string> {
    const manager = join(hivePaths(this.spec.root).logsDir, "manager.log");
    const parts = this.started.map(({ name, proc }) => `--- ${name}\n${proc.output()}`);
    if (existsSync(manager))
      parts.push(`--- manager\n${readFileSync(manager, "utf8").slice(-20_000)}`);
    parts.push(`--- model requests\n${await this.modelRequests()}`);
    return parts.join("\n");
  }

  private async modelRequests(): Promise<string> {
    if (this.modelUrl === undefined) return "(no model server)";
    try {
      const res = await fetch(`${this.modelUrl}/_requests`);
      return (await res.text()).slice(-20_000);
    } catch (e) {
      return `(GET /_requests failed: ${e instanceof Error ? e.message : String(e)})`;
    }
  }

  /** Stops the services in reverse order (SIGTERM, SIGKILL after a grace); how each ended. */
  async stop(): Promise<Record<string, ExitInfo>> {
    const exits: Record<string, ExitInfo> = {};
    for (const { name, proc, graceMs } of [...this.started].reverse()) {
      exits[name] = (await proc.stop(graceMs)).exit;
    }
    return exits;
  }
}
