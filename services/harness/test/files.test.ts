import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExtraMcpServer } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import {
  CostLedger,
  hasSession,
  markNewSession,
  renderPrompt,
  StateFiles,
  takeNewSession,
  writeBootFiles,
} from "../src/files.js";
import { writeTestPrompts } from "./procs.js";

describe("boot files", () => {
  it("writes the mcp config, settings and the rendered system prompt", () => {
    const t = tempDir();
    try {
      const prompts = writeTestPrompts(join(t.path, "prompts"));
      const runDir = join(t.path, "run");
      const files = writeBootFiles({
        runDir,
        promptsDir: prompts,
        role: "manager",
        operatorPronouns: "they/them",
        nodeBin: "/usr/bin/node",
        harnessMain: "/x/main.js",
        socketPath: join(runDir, "hive.sock"),
        agent: "boss",
        extraServers: {
          notes: ExtraMcpServer.parse({
            command: "/bin/notes",
            args: ["--serve"],
            env: { NOTES_DIR: "/n" },
            allowed_tools: ["*"],
          }),
        },
      });
      const mcp = JSON.parse(readFileSync(files.mcpConfig, "utf8"));
      assert.deepEqual(mcp.mcpServers.hyperhive, {
        type: "stdio",
        command: "/usr/bin/node",
        args: ["/x/main.js", "mcp"],
        alwaysLoad: true,
        env: {
          HIVE_SOCKET: join(runDir, "hive.sock"),
          HIVE_AGENT: "boss",
          HIVE_ROLE: "manager",
          HIVE_LOG_LEVEL: "warn",
        },
      });
      assert.deepEqual(mcp.mcpServers.notes, {
        type: "stdio",
        command: "/bin/notes",
        args: ["--serve"],
        env: { NOTES_DIR: "/n", HIVE_SOCKET: join(runDir, "hive.sock"), HIVE_AGENT: "boss" },
        alwaysLoad: true,
      });
      const settings = JSON.parse(readFileSync(files.settings, "utf8"));
      assert.equal(settings.autoCompactEnabled, false);
      assert.equal(settings.autoMemoryEnabled, false);
      assert.equal(settings.effortLevel, "medium");
      assert.equal(
        readFileSync(files.systemPrompt, "utf8"),
        "You are boss, the manager. Operator: they/them.\n",
      );
    } finally {
      t.remove();
    }
  });

  it("fails loudly when the template is missing", () => {
    const t = tempDir();
    try {
      assert.throws(
        () =>
          writeBootFiles({
            runDir: join(t.path, "run"),
            promptsDir: join(t.path, "none"),
            role: "agent",
            operatorPronouns: "she/her",
            nodeBin: "n",
            harnessMain: "m",
            socketPath: "s",
            agent: "a",
            extraServers: {},
          }),
        /ENOENT/,
      );
    } finally {
      t.remove();
    }
  });

  it("renders every placeholder occurrence", () => {
    assert.equal(
      renderPrompt("{label} {label} {operator_pronouns}", { label: "a", operatorPronouns: "he" }),
      "a a he",
    );
  });
});

describe("state files", () => {
  it("a session exists once claude wrote a transcript; the new-session marker is one-shot", () => {
    const t = tempDir();
    try {
      const cfg = join(t.path, ".claude");
      assert.equal(hasSession(cfg), false);
      mkdirSync(join(cfg, "projects", "-tmp-x"), { recursive: true });
      assert.equal(hasSession(cfg), false);
      writeFileSync(join(cfg, "projects", "-tmp-x", "abc.jsonl"), "{}\n");
      assert.equal(hasSession(cfg), true);
      assert.equal(takeNewSession(t.path), false);
      writeFileSync(join(t.path, StateFiles.newSession), "");
      assert.equal(takeNewSession(t.path), true);
      assert.equal(takeNewSession(t.path), false);
      markNewSession(t.path);
      markNewSession(t.path);
      assert.equal(takeNewSession(t.path), true);
      assert.equal(takeNewSession(t.path), false);
    } finally {
      t.remove();
    }
  });

  it("cost ledger turns claude's session-cumulative cost into per-turn cost, across restarts", () => {
    const t = tempDir();
    try {
      assert.equal(new CostLedger(t.path).turnCost("s1", 0.5), 0.5);
      assert.ok(Math.abs(new CostLedger(t.path).turnCost("s1", 0.75) - 0.25) < 1e-12);
      assert.equal(new CostLedger(t.path).turnCost("s1", 0.75), 0);
      assert.equal(new CostLedger(t.path).turnCost("s2", 0.1), 0.1);
    } finally {
      t.remove();
    }
  });
});
