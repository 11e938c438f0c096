import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ExitInfo,
  type NatsConnection,
  rpcs,
  type Service,
  serve,
  startService,
  subjects,
} from "@hyperhive/shared";
import { repoRoot } from "@hyperhive/shared/testing";
import { z } from "zod";

export const REPO = repoRoot(import.meta.url);
export const HARNESS_MAIN = join(REPO, "services/harness/dist/src/main.js");
export const BROKER_MAIN = join(REPO, "services/broker/dist/src/main.js");
export const MODEL_MAIN = join(REPO, "services/model-server/dist/src/main.js");
export const CLAUDE_BIN = join(REPO, "node_modules/.bin/claude");

/** Fails with a clear message when a service the tests spawn has not been built. */
export function assertBuilt(): void {
  for (const p of [BROKER_MAIN, MODEL_MAIN, HARNESS_MAIN, CLAUDE_BIN]) {
    assert.ok(existsSync(p), `${p} is missing: build the services first`);
  }
}

/** Stands in for c0re: the broker asks it, when it starts, who may be mailed. */
export function serveRoster(nc: NatsConnection, agents: string[]): Service {
  return serve(nc, subjects.c0re.roster, rpcs.roster, () => ({ agents, at: 1 }));
}

export interface HarnessEnvOptions {
  natsUrl: string;
  /** The agent's dirs go under `<root>/<agent>/`. */
  root: string;
  agent: string;
  prompts: string;
  /** The model server claude talks to. */
  modelUrl: string;
}

/** The environment of `serve` for one agent, its claude pointed at the model server. */
export function harnessEnv(o: HarnessEnvOptions, extra: Record<string, string> = {}) {
  return {
    NATS_URL: o.natsUrl,
    HIVE_AGENT: o.agent,
    HIVE_STATE_DIR: join(o.root, o.agent, "state"),
    HIVE_RUN_DIR: join(o.root, o.agent, "run"),
    HIVE_PROMPTS_DIR: o.prompts,
    HIVE_CLAUDE_BIN: CLAUDE_BIN,
    ANTHROPIC_BASE_URL: o.modelUrl,
    ANTHROPIC_API_KEY: "test-key",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ...extra,
  };
}

/** A child process that printed its ready line. */
export interface Proc {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  /** What it wrote (last 200 kB). */
  stderr(): string;
  /** Resolves with the exit code/signal once it has exited. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (to the group if detached; SIGKILL after 5 s); waits for exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Own process group (so the test can kill the whole group like a container dying). */
  detached?: boolean;
  timeoutMs?: number;
}

/** Spawns `node <main> ...args` and waits for its `{"ready":...}` stdout line. */
export async function startNode(
  main: string,
  args: string[],
  opts: StartOptions = {},
): Promise<Proc> {
  const p = await startService({
    command: process.execPath,
    args: [main, ...args],
    env: { ...process.env, ...opts.env },
    detached: opts.detached ?? false,
    readyTimeoutMs: opts.timeoutMs ?? 15_000,
    keepOutput: 200_000,
    echoStderr: Boolean(process.env.HIVE_TEST_VERBOSE),
  });
  return {
    child: p.child,
    ready: p.readyLine,
    exited: p.exited,
    stderr: () => p.output(),
    async stop() {
      await p.stop(5000);
    },
  };
}

/** A minimal prompt dir for tests (the repo's prompts/ are someone else's). */
export function writeTestPrompts(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "agent.md"),
    "You are {label}, an agent of the hive. The operator's pronouns are {operator_pronouns}.\n",
  );
  writeFileSync(
    join(dir, "manager.md"),
    "You are {label}, the manager. Operator: {operator_pronouns}.\n",
  );
  return dir;
}

/** Model-server rules the tests and the fixture capture share. */
export const rules = {
  /** The API refuses the key: claude reports "Invalid API key", the harness goes needs-login. */
  notLoggedIn: {
    match: "",
    error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
  },
  /** The first request matching "too long" is refused as too long; then plain "Done." replies. */
  promptTooLongOnce: [
    {
      match: "too long",
      times: 1,
      error: {
        status: 400,
        type: "invalid_request_error",
        message: "prompt is too long: 250000 tokens > 200000 maximum",
      },
    },
    { match: "", reply: [{ text: "Done." }] },
  ],
} as const;

/** One request the model server logged (`GET /_requests`); it may say more than this. */
const LoggedRequest = z.looseObject({
  path: z.string(),
  /** How the server answered: "reply", "continue", "error", "fallback", "other". */
  kind: z.string(),
  /** Index of the script rule that matched, if any. */
  rule: z.number().nullable(),
  /** Newest user text (tool results included). */
  text: z.string(),
  /** The request's `model`, as claude sent it. */
  model: z.string().nullable(),
  /** Whether it was claude's compaction (summary) request. */
  compact: z.boolean(),
  /** The tool calls the answer carried. */
  tool_uses: z.array(z.looseObject({ name: z.string(), input: z.unknown() })),
});
export type LoggedRequest = z.infer<typeof LoggedRequest>;

/** The model server's control API, its answers parsed. */
export class ModelControl {
  constructor(readonly url: string) {}

  async setScript(rules: unknown): Promise<void> {
    const r = await fetch(`${this.url}/_script`, { method: "PUT", body: JSON.stringify(rules) });
    if (!r.ok) throw new Error(`PUT /_script: ${r.status} ${await r.text()}`);
  }

  async requests(): Promise<LoggedRequest[]> {
    const r = await fetch(`${this.url}/_requests`);
    return z.array(LoggedRequest).parse(await r.json());
  }

  async clearRequests(): Promise<void> {
    await fetch(`${this.url}/_requests`, { method: "DELETE" });
  }

  async release(): Promise<number> {
    const r = await fetch(`${this.url}/_release`, { method: "POST" });
    return z.looseObject({ released: z.number().int() }).parse(await r.json()).released;
  }
}
