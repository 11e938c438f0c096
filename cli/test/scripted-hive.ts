import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentInfo,
  AgentsListResponse,
  type Approval,
  ApprovalsListResponse,
  InboxListResponse,
  type StoredMessage,
} from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll } from "vitest";
import { z } from "zod";
import { cleanEnv, dashboardOf, hive, type Result, startUp, stopUp, type Up } from "./helpers.js";
import { Logged } from "./manager-script.js";

/**
 * A real `hive up --offline` for one test file (nats-server, broker, c0re, the manager's harness
 * and the real claude, the model server, web) with the model server running `script`, and the
 * `hive` commands a test drives it with. Started in beforeAll, stopped in afterAll.
 */
export interface ScriptedHive {
  /** The hive's root (a temp dir). */
  root(): string;
  /** A `hive` command on this root. */
  cli(...args: string[]): Promise<Result>;
  /** A `hive` command with `--json` that must succeed: its JSON. */
  json(...args: string[]): Promise<unknown>;
  /** What the model server was asked, oldest first. */
  logged(): Promise<Logged>;
  /** Every agent, tombstones too. */
  agents(): Promise<AgentInfo[]>;
  agent(name: string): Promise<AgentInfo | undefined>;
  /** Waits for a message to the operator from `from` whose body starts with `body`. */
  reply(from: string, body: string): Promise<StoredMessage>;
  /** Waits for the pending spawn of `name` the manager asked for. */
  pendingSpawn(name: string): Promise<Approval>;
}

export function useScriptedHive(o: {
  prefix: string;
  script: unknown;
  /** Added to the clean environment `hive up` and the commands run in. */
  env?: NodeJS.ProcessEnv;
}): ScriptedHive {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let env: NodeJS.ProcessEnv = {};
  let up: Up | undefined;
  let model = "";
  const root = () => {
    assert.ok(tmp, "the hive is not up yet");
    return tmp.path;
  };
  const cli = (...args: string[]) => hive([...args, "--root", root()], env);
  const json = async (...args: string[]): Promise<unknown> => {
    const r = await cli(...args, "--json");
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const agents = async () => AgentsListResponse.parse(await json("agents", "--all")).agents;

  beforeAll(async () => {
    tmp = tempDir(o.prefix);
    env = { ...cleanEnv(join(tmp.path, "home")), ...o.env };
    up = startUp(["--offline", "--root", tmp.path, "--port", "0"], env);
    await dashboardOf(up);
    const url = /\(model: (http:\/\/127\.0\.0\.1:\d+)\)/.exec(up.stdout())?.[1];
    assert.ok(url, up.stdout());
    model = url;
    const put = await fetch(`${model}/_script`, { method: "PUT", body: JSON.stringify(o.script) });
    assert.equal(put.status, 200, await put.text());
  }, 150_000);

  // A failed case says what the model server was asked and answered, the newest last: whether
  // claude called the tool, and what came back (a flake on CI leaves nothing else to read).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || model === "") return;
    try {
      const res = await fetch(`${model}/_requests`);
      const entries = z
        .array(
          z.looseObject({
            time: z.string(),
            kind: z.string(),
            rule: z.number().nullable(),
            text: z.string(),
            tool_uses: z.array(z.looseObject({ name: z.string() })),
          }),
        )
        .parse(await res.json());
      const lines = entries.slice(-12).map((e) => {
        const calls = e.tool_uses.map((t) => t.name).join(",");
        return `${e.time} ${e.kind} rule=${e.rule} ${calls} ${JSON.stringify(e.text.slice(0, 300))}`;
      });
      process.stderr.write(`model server, last requests:\n${lines.join("\n")}\n`);
    } catch (e) {
      process.stderr.write(`model server log unavailable: ${String(e)}\n`);
    }
    // And what c0re, the broker and the manager's harness said last.
    const logs = join(root(), "logs");
    for (const log of ["services/c0re.log", "services/broker.log", "manager.log"]) {
      const lines = existsSync(join(logs, log))
        ? readFileSync(join(logs, log), "utf8").trimEnd().split("\n").slice(-15)
        : ["(none)"];
      process.stderr.write(
        `${log}, last lines:\n${lines.map((l) => l.slice(0, 400)).join("\n")}\n`,
      );
    }
  });

  afterAll(async () => {
    await stopUp(up);
    tmp?.remove();
  });

  return {
    root,
    cli,
    json,
    logged: async () => Logged.parse(await (await fetch(`${model}/_requests`)).json()),
    agents,
    agent: async (name) => (await agents()).find((a) => a.name === name),
    reply: (from, body) =>
      waitUntil(
        async () =>
          InboxListResponse.parse(await json("inbox")).messages.find(
            (m) => m.from === from && m.body.startsWith(body),
          ),
        { timeoutMs: 60_000, intervalMs: 300, what: `${body} from ${from}` },
      ),
    pendingSpawn: (name) =>
      waitUntil(
        async () =>
          ApprovalsListResponse.parse(await json("approvals")).approvals.find(
            (a) => a.kind === "spawn" && a.details.name === name,
          ),
        { timeoutMs: 60_000, intervalMs: 300, what: `the manager's spawn of ${name}` },
      ),
  };
}
