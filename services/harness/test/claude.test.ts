import assert from "node:assert/strict";
import { AgentConfig, DEFAULT_ALLOWED_TOOLS } from "@hyperhive/shared";
import { describe, it } from "vitest";
import {
  buildClaudeArgs,
  buildClaudeEnv,
  displaySender,
  MCP_CONNECT_WAIT_MS,
  wakeBody,
} from "../src/claude.js";
import { claudeTools, hyperhiveTools } from "../src/tools.js";

const defaults = AgentConfig.parse({});
/** The hyperhive tools every agent has, written out: mail, whoami, questions, threads, reminders. */
const EVERY_AGENT = [
  "send",
  "recv",
  "recv_batch",
  "whoami",
  "ask_operator",
  "ask",
  "answer",
  "list_my_asks",
  "cancel_ask",
  "get_open_threads",
  "remind",
  "list_my_reminders",
  "cancel_reminder",
];
/** Those as claude's --allowedTools names them. */
const AGENT_MCP = EVERY_AGENT.map((x) => `mcp__hyperhive__${x}`).join(",");

describe("buildClaudeArgs", () => {
  it("builds the exact flags, --continue only when asked", () => {
    const tools = claudeTools(defaults, "agent");
    const first = buildClaudeArgs({
      model: "haiku",
      continueSession: false,
      runDir: "/run/hive",
      tools,
    });
    assert.deepEqual(first, [
      "--print",
      "--verbose",
      "--output-format",
      "stream-json",
      "--model",
      "haiku",
      "--settings",
      "/run/hive/claude-settings.json",
      "--system-prompt-file",
      "/run/hive/claude-system-prompt.md",
      "--mcp-config",
      "/run/hive/claude-mcp-config.json",
      "--strict-mcp-config",
      "--tools",
      "Bash,Edit,Glob,Grep,Read,TodoWrite,Write",
      "--allowedTools",
      `Bash,Edit,Glob,Grep,Read,TodoWrite,Write,${AGENT_MCP}`,
    ]);
    const next = buildClaudeArgs({ model: "sonnet", continueSession: true, runDir: "/r", tools });
    assert.deepEqual(next.slice(4, 7), ["--model", "sonnet", "--continue"]);
    assert.equal(next.length, first.length + 1);
  });

  it("a built-in by rules is offered, and only its rules run; given whole too, it runs whole", () => {
    const ruled = claudeTools(
      AgentConfig.parse({ allowed_tools: ["Read", "Bash(git log *)", "Bash(git diff *)"] }),
      "agent",
    );
    assert.deepEqual(ruled.builtins, ["Read", "Bash"]);
    assert.deepEqual(ruled.allowed.slice(0, 3), ["Read", "Bash(git log *)", "Bash(git diff *)"]);
    const both = claudeTools(
      AgentConfig.parse({ allowed_tools: ["Bash(git *)", "Bash"] }),
      "agent",
    );
    assert.deepEqual(both.builtins, ["Bash"]);
    assert.deepEqual(both.allowed.slice(0, 1), ["Bash"]);
    assert.ok(!both.allowed.includes("Bash(git *)"), "a rule under a whole tool narrows nothing");
    for (const bad of [
      "Teleport(x)",
      "Bash()",
      "Bash(a\nb)",
      "bash(ls)",
      "Bash(ls",
      `Bash(${"x".repeat(200)})`,
    ]) {
      assert.equal(AgentConfig.safeParse({ allowed_tools: [bad] }).success, false, bad);
    }
  });

  it("no built-ins at all is an empty --tools", () => {
    const tools = claudeTools(AgentConfig.parse({ allowed_tools: [] }), "agent");
    const args = buildClaudeArgs({ model: "haiku", continueSession: false, runDir: "/r", tools });
    assert.equal(args[args.indexOf("--tools") + 1], "");
    assert.equal(args[args.indexOf("--allowedTools") + 1], AGENT_MCP);
  });
});

describe("claudeTools", () => {
  it("the defaults: shared's built-ins; web and sub-agent tools denied by omission", () => {
    const t = claudeTools(defaults, "agent");
    for (const x of ["WebFetch", "WebSearch", "Task", "NotebookEdit"]) {
      assert.ok(!t.builtins.includes(x));
    }
    assert.deepEqual(t.builtins, [...DEFAULT_ALLOWED_TOOLS]);
  });

  it("the manager's flavour adds its verbs; a sub-agent's has none of them", () => {
    const verbs = ["request_spawn", "kill", "start", "restart", "update", "request_apply_commit"];
    assert.deepEqual(hyperhiveTools("manager"), [...EVERY_AGENT, ...verbs]);
    assert.deepEqual(hyperhiveTools("agent"), EVERY_AGENT);
    const m = claudeTools(defaults, "manager").allowed;
    for (const v of verbs) assert.ok(m.includes(`mcp__hyperhive__${v}`), v);
    const a = claudeTools(defaults, "agent").allowed;
    assert.ok(!a.some((x) => verbs.some((v) => x === `mcp__hyperhive__${v}`)));
  });

  it("the config's built-ins and each extra server's patterns as mcp__<key>__<pattern>", () => {
    const cfg = AgentConfig.parse({
      allowed_tools: ["Read", "Bash", "Read"],
      extra_mcp_servers: {
        notes: { command: "notes-mcp", allowed_tools: ["*"] },
        "web-x": { command: "w", allowed_tools: ["fetch", "search"] },
        quiet: { command: "q" },
      },
    });
    const t = claudeTools(cfg, "agent");
    assert.deepEqual(t.builtins, ["Read", "Bash"]);
    assert.deepEqual(t.allowed, [
      "Read",
      "Bash",
      ...EVERY_AGENT.map((x) => `mcp__hyperhive__${x}`),
      "mcp__notes__*",
      "mcp__web-x__fetch",
      "mcp__web-x__search",
    ]);
  });
});

describe("buildClaudeEnv", () => {
  it("passes ANTHROPIC_* and basics, points HOME and CLAUDE_CONFIG_DIR into the state dir", () => {
    const env = buildClaudeEnv(
      {
        PATH: "/bin",
        HOME: "/home/operator",
        ANTHROPIC_BASE_URL: "http://127.0.0.1:1",
        ANTHROPIC_API_KEY: "k",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        NATS_URL: "nats://secret",
        HIVE_AGENT: "alice",
        CLAUDE_CONFIG_DIR: "/home/operator/.claude",
      },
      { stateDir: "/hive/agents/alice/state", home: "/hive/agents/alice/state" },
    );
    assert.equal(env.PATH, "/bin");
    assert.equal(env.ANTHROPIC_BASE_URL, "http://127.0.0.1:1");
    assert.equal(env.ANTHROPIC_API_KEY, "k");
    assert.equal(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, "1");
    assert.equal(env.HOME, "/hive/agents/alice/state");
    assert.equal(env.CLAUDE_CONFIG_DIR, "/hive/agents/alice/state/.claude");
    assert.equal(env.NATS_URL, undefined);
    assert.equal(env.HIVE_AGENT, undefined);
    assert.equal(env.DISABLE_AUTO_COMPACT, "1");
    assert.equal(env.MCP_CONNECT_TIMEOUT_MS, String(MCP_CONNECT_WAIT_MS), "not claude's 5 s");
  });

  it("adds the agent config's env; the harness's own switches still win", () => {
    const env = buildClaudeEnv(
      { PATH: "/bin", ANTHROPIC_API_KEY: "k" },
      {
        stateDir: "/s",
        home: "/s",
        configEnv: {
          GREETING: "hi",
          DISABLE_AUTO_COMPACT: "0",
          ANTHROPIC_API_KEY: "agent-key",
          MCP_CONNECT_TIMEOUT_MS: "90000",
        },
      },
    );
    assert.equal(env.GREETING, "hi");
    assert.equal(env.MCP_CONNECT_TIMEOUT_MS, "90000", "the config's wait for its MCP servers");
    assert.equal(env.ANTHROPIC_API_KEY, "agent-key");
    assert.equal(env.DISABLE_AUTO_COMPACT, "1");
    assert.equal(env.HOME, "/s");
  });
});

describe("wake sender", () => {
  it("shows a self-sent wake as coming from its label", () => {
    const body = wakeBody("webhook: deploy ok", "build 42 is live\nsecond line");
    assert.deepEqual(displaySender("alice", { from: "alice", body }), {
      from: "webhook: deploy ok",
      body: "build 42 is live\nsecond line",
    });
    // Only the agent's own messages are wakes; anyone else's text is shown as sent.
    assert.deepEqual(displaySender("alice", { from: "bob", body }), { from: "bob", body });
    assert.deepEqual(displaySender("alice", { from: "alice", body: "note to self" }), {
      from: "alice",
      body: "note to self",
    });
  });
});
