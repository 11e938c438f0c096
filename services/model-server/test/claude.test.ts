/**
 * The real claude CLI against the model server: a full tool round through a stdio MCP server,
 * and what the CLI prints for API errors (401, prompt too long).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir, withTimeout } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { DEFAULT_SCRIPT, type ModelServer, startModelServer } from "../src/mod.js";

const CLAUDE =
  process.env.HIVE_CLAUDE_BIN ??
  fileURLToPath(new URL("../../../node_modules/.bin/claude", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../dist/test/fixtures/send-mcp.js", import.meta.url));

/** One stream-json line of claude's stdout. */
interface StreamEvent {
  type: string;
  subtype?: string;
  [k: string]: unknown;
}

interface ClaudeRun {
  code: number | null;
  events: StreamEvent[];
  stderr: string;
}

/** Runs one `claude --print` turn with the prompt on stdin; the environment is built from scratch. */
async function runClaude(
  home: string,
  baseUrl: string,
  prompt: string,
  extraArgs: string[] = [],
): Promise<ClaudeRun> {
  const child = spawn(
    CLAUDE,
    ["--print", "--verbose", "--output-format", "stream-json", "--model", "haiku", ...extraArgs],
    {
      cwd: home,
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        CLAUDE_CONFIG_DIR: join(home, ".claude"),
        ANTHROPIC_BASE_URL: baseUrl,
        ANTHROPIC_API_KEY: "sk-test",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin.end(prompt);
  const code = await withTimeout(
    new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c))),
    30_000,
    "claude turn",
  ).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  const events = stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as StreamEvent);
  return { code, events, stderr };
}

describe("the real claude CLI against the model server", { timeout: 120_000 }, () => {
  let ms: ModelServer;
  let dir: ReturnType<typeof tempDir>;
  let home: string;
  let sendLog: string;
  let mcpConfig: string;
  let runs = 0;

  beforeAll(async () => {
    assert.ok(existsSync(CLAUDE), `claude CLI not found at ${CLAUDE}`);
    ms = await startModelServer({ port: 0 });
    dir = tempDir("model-server-claude-");
  });
  afterAll(async () => {
    await ms.close();
    dir.remove();
  });
  beforeEach(() => {
    // A fresh HOME and config dir per test: no session carried over.
    home = join(dir.path, `home-${++runs}`);
    mkdirSync(home, { recursive: true });
    sendLog = join(home, "sent.jsonl");
    mcpConfig = join(home, "mcp.json");
    writeFileSync(
      mcpConfig,
      JSON.stringify({
        mcpServers: {
          hyperhive: {
            type: "stdio",
            command: process.execPath,
            args: [FIXTURE, "--serve"],
            env: { SEND_LOG: sendLog },
          },
        },
      }),
    );
    ms.setScript(DEFAULT_SCRIPT);
  });

  const mcpArgs = (): string[] => [
    "--mcp-config",
    mcpConfig,
    "--strict-mcp-config",
    "--allowedTools",
    "mcp__hyperhive__send",
  ];

  it("runs a full turn: calls the scripted MCP tool and reports usage", async () => {
    const systemPrompt = join(home, "system-prompt.md");
    writeFileSync(systemPrompt, "You are test-bee, an agent of the hive.\n");
    const run = await runClaude(
      home,
      ms.url,
      "from: operator\n\nhello from the test\nsecond line",
      [...mcpArgs(), "--system-prompt-file", systemPrompt],
    );
    assert.equal(run.code, 0, run.stderr);

    // The tool really ran, with the scripted input.
    const sent = readFileSync(sendLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(sent, [{ to: "operator", body: "pong: hello from the test" }]);

    const init = run.events.find((e) => e.type === "system" && e.subtype === "init");
    assert.ok(init, "no system init event");
    assert.ok((init.tools as string[]).includes("mcp__hyperhive__send"));
    assert.deepEqual(init.mcp_servers, [{ name: "hyperhive", status: "connected" }]);

    const toolUse = run.events
      .filter((e) => e.type === "assistant")
      .flatMap(
        (e) =>
          (e.message as { content: { type: string; name?: string; input?: unknown }[] }).content,
      )
      .find((b) => b.type === "tool_use");
    assert.ok(toolUse, "no assistant tool_use");
    assert.equal(toolUse.name, "mcp__hyperhive__send");
    assert.deepEqual(toolUse.input, { to: "operator", body: "pong: hello from the test" });

    const toolResult = run.events
      .filter((e) => e.type === "user")
      .flatMap((e) => (e.message as { content: { type: string; content?: unknown }[] }).content)
      .find((b) => b.type === "tool_result");
    assert.ok(toolResult, "no user tool_result");
    assert.deepEqual(toolResult.content, [{ type: "text", text: "sent (id 1)" }]);

    const result = run.events.at(-1)!;
    assert.equal(result.type, "result");
    assert.equal(result.is_error, false);
    assert.equal(result.subtype, "success");
    assert.equal(result.num_turns, 2);
    assert.equal(result.result, "Replied to the operator.");
    const usage = result.usage as Record<string, number>;
    assert.ok(usage.input_tokens! > 0, "input_tokens");
    assert.ok(usage.output_tokens! > 0, "output_tokens");
    assert.ok(usage.cache_read_input_tokens! > 0, "cache_read_input_tokens");
    const modelUsage = result.modelUsage as Record<string, { contextWindow: number }>;
    assert.ok(Object.values(modelUsage)[0]!.contextWindow > 0);

    // What the server saw: the wake prompt (reminders stripped), then the tool_result.
    const log = ms.requests().slice(-2);
    assert.deepEqual(
      log.map((e) => [e.path, e.stream, e.kind, e.rule]),
      [
        ["/v1/messages", true, "reply", 0],
        ["/v1/messages", true, "continue", 0],
      ],
    );
    assert.equal(log[0]!.text, "from: operator\n\nhello from the test\nsecond line");
    assert.match(log[0]!.system, /You are test-bee, an agent of the hive\./);
    assert.match(log[0]!.model ?? "", /haiku/);
  });

  it("reports a 401 as authentication_failed with 'Invalid API key', without retrying", async () => {
    ms.setScript([
      {
        match: "",
        error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
      },
    ]);
    const before = ms.requests().length;
    const run = await runClaude(home, ms.url, "from: operator\n\nhi");
    assert.equal(run.code, 1);
    const assistant = run.events.find((e) => e.type === "assistant");
    assert.ok(assistant, "no assistant event");
    assert.equal(assistant.error, "authentication_failed");
    const result = run.events.at(-1)!;
    assert.equal(result.type, "result");
    assert.equal(result.is_error, true);
    assert.equal(result.result, "Invalid API key · Fix external API key");
    assert.equal(result.api_error_status, 401);
    // claude 2.1.197 reports an auth failure as a completed run; the text is what tells.
    assert.equal(result.terminal_reason, "completed");
    assert.equal(ms.requests().length - before, 1, "claude retried the 401");
  });

  it("reports prompt too long in a fresh session as terminal_reason prompt_too_long", async () => {
    ms.setScript([
      {
        match: "",
        error: {
          status: 400,
          type: "invalid_request_error",
          message: "prompt is too long: 250000 tokens > 200000 maximum",
        },
      },
    ]);
    const run = await runClaude(home, ms.url, "from: operator\n\nhi");
    assert.equal(run.code, 1);
    const assistant = run.events.find((e) => e.type === "assistant");
    assert.ok(assistant);
    assert.equal(assistant.error, "invalid_request");
    const result = run.events.at(-1)!;
    assert.equal(result.type, "result");
    assert.equal(result.is_error, true);
    assert.equal(result.terminal_reason, "prompt_too_long");
    assert.match(String(result.result), /^Prompt is too long/);
  });

  it("compacts by itself when a resumed session's prompt is too long, then retries", async () => {
    const first = await runClaude(home, ms.url, "from: operator\n\nturn one", mcpArgs());
    assert.equal(first.code, 0, first.stderr);
    ms.setScript([
      {
        match: "turn two",
        times: 1,
        error: {
          status: 400,
          type: "invalid_request_error",
          message: "prompt is too long: 250000 tokens > 200000 maximum",
        },
      },
      ...DEFAULT_SCRIPT,
    ]);
    const before = ms.requests().length;
    const run = await runClaude(home, ms.url, "from: operator\n\nturn two", [
      ...mcpArgs(),
      "--continue",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const statuses = run.events.filter((e) => e.type === "system" && e.subtype === "status");
    assert.equal(statuses[0]?.status, "compacting");
    assert.equal(statuses[1]?.compact_result, "success");
    assert.ok(run.events.some((e) => e.type === "system" && e.subtype === "compact_boundary"));
    const result = run.events.at(-1)!;
    assert.equal(result.is_error, false);
    assert.equal(result.terminal_reason, "completed");
    const seen = ms.requests().slice(before);
    assert.equal(seen[0]!.kind, "error");
    assert.ok(
      seen.some((e) => e.compact && e.kind === "fallback"),
      "no compaction request",
    );
    // After compacting, the turn is retried and the operator message answered.
    assert.deepEqual(
      readFileSync(sendLog, "utf8").trim().split("\n").at(-1),
      JSON.stringify({ to: "operator", body: "pong: turn two" }),
    );
  });
});
