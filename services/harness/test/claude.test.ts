import assert from "node:assert/strict";
import { AgentConfig, DEFAULT_ALLOWED_TOOLS } from "@hyperhive/shared";
import { describe, it } from "vitest";
import {
  buildClaudeArgs,
  buildClaudeEnv,
  displaySender,
  wakeBody,
  wakePrompt,
} from "../src/claude.js";
import { claudeTools, hyperhiveTools } from "../src/tools.js";

const defaults = AgentConfig.parse({});

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
      "Bash,Edit,Glob,Grep,Read,TodoWrite,Write," +
        "mcp__hyperhive__send,mcp__hyperhive__recv,mcp__hyperhive__whoami",
    ]);
    const next = buildClaudeArgs({ model: "sonnet", continueSession: true, runDir: "/r", tools });
    assert.deepEqual(next.slice(4, 7), ["--model", "sonnet", "--continue"]);
    assert.equal(next.length, first.length + 1);
  });

  it("no built-ins at all is an empty --tools", () => {
    const tools = claudeTools(AgentConfig.parse({ allowed_tools: [] }), "agent");
    const args = buildClaudeArgs({ model: "haiku", continueSession: false, runDir: "/r", tools });
    assert.equal(args[args.indexOf("--tools") + 1], "");
    assert.equal(
      args[args.indexOf("--allowedTools") + 1],
      "mcp__hyperhive__send,mcp__hyperhive__recv,mcp__hyperhive__whoami",
    );
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
    assert.deepEqual(hyperhiveTools("manager"), ["send", "recv", "whoami", ...verbs]);
    assert.deepEqual(hyperhiveTools("agent"), ["send", "recv", "whoami"]);
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
      "mcp__hyperhive__send",
      "mcp__hyperhive__recv",
      "mcp__hyperhive__whoami",
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
  });

  it("adds the agent config's env; the harness's own switches still win", () => {
    const env = buildClaudeEnv(
      { PATH: "/bin", ANTHROPIC_API_KEY: "k" },
      {
        stateDir: "/s",
        home: "/s",
        configEnv: { GREETING: "hi", DISABLE_AUTO_COMPACT: "0", ANTHROPIC_API_KEY: "agent-key" },
      },
    );
    assert.equal(env.GREETING, "hi");
    assert.equal(env.ANTHROPIC_API_KEY, "agent-key");
    assert.equal(env.DISABLE_AUTO_COMPACT, "1");
    assert.equal(env.HOME, "/s");
  });
});

describe("wake prompt", () => {
  it("is from + body, with pending and redelivery hints", () => {
    assert.equal(
      wakePrompt({ from: "operator", body: "hi", pending: 0, redelivered: false }),
      "from: operator\n\nhi\n",
    );
    assert.equal(
      wakePrompt({ from: "bob", body: "x\ny", pending: 2, redelivered: true }),
      "from: bob\n\nx\ny\n\n(2 more pending — call recv to drain)\n" +
        "(redelivered: a previous turn on this message did not finish)\n",
    );
  });

  it("a retry says why: the previous turn failed, or the operator cancelled it", () => {
    const base = { from: "operator", body: "hi", pending: 0, redelivered: false };
    assert.equal(
      wakePrompt({ ...base, retry: { attempt: 2, lastError: "overloaded" } }),
      "from: operator\n\nhi\n\n(retry 2: the previous turn on this message failed: overloaded)\n",
    );
    assert.equal(
      wakePrompt({ ...base, retry: { attempt: 3, lastError: "x", cancelled: true } }),
      "from: operator\n\nhi\n\n(retry 3: the operator cancelled the previous turn on this message)\n",
    );
  });

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
