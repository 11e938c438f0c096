import assert from "node:assert/strict";
import { describe, it } from "vitest";
import {
  BUILTIN_TOOLS,
  buildClaudeArgs,
  buildClaudeEnv,
  displaySender,
  MCP_TOOLS,
  wakeBody,
  wakePrompt,
} from "../src/claude.js";

describe("buildClaudeArgs", () => {
  it("builds the exact flags, --continue only when asked", () => {
    const first = buildClaudeArgs({ model: "haiku", continueSession: false, runDir: "/run/hive" });
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
      "Bash,Edit,Glob,Grep,Read,TodoWrite,Write,mcp__hyperhive__send,mcp__hyperhive__recv",
    ]);
    const next = buildClaudeArgs({ model: "sonnet", continueSession: true, runDir: "/r" });
    assert.deepEqual(next.slice(4, 7), ["--model", "sonnet", "--continue"]);
    assert.equal(next.length, first.length + 1);
  });

  it("denies web and sub-agent tools by omission", () => {
    for (const t of ["WebFetch", "WebSearch", "Task", "NotebookEdit"]) {
      assert.ok(!(BUILTIN_TOOLS as readonly string[]).includes(t));
    }
    assert.deepEqual([...MCP_TOOLS], ["mcp__hyperhive__send", "mcp__hyperhive__recv"]);
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
