import assert from "node:assert/strict";
import { ConfigError, retryDelay } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { loadHarnessConfig } from "../src/config.js";

const base = {
  HIVE_AGENT: "alice",
  HIVE_STATE_DIR: "/hive/agents/alice/state",
  HIVE_RUN_DIR: "/hive/agents/alice/run",
  HIVE_PROMPTS_DIR: "/hive/prompts",
};

describe("harness config", () => {
  it("the back-offs are retry policies built from the environment, with their defaults", () => {
    const { retry } = loadHarnessConfig(base);
    assert.deepEqual(retry.login, { initialMs: 30_000, factor: 2, maxMs: 300_000 });
    assert.deepEqual(retry.turn, { initialMs: 5_000, factor: 2, maxMs: 300_000, maxAttempts: 3 });
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelay(retry.recv, n)),
      [500, 1000, 2000, 4000],
    );
    assert.equal(retryDelay(retry.recv, 10), 10_000);
  });

  it("HIVE_LOGIN_RETRY_SECONDS, HIVE_TURN_RETRY_SECONDS and HIVE_TURN_ATTEMPTS set them", () => {
    const { retry } = loadHarnessConfig({
      ...base,
      HIVE_LOGIN_RETRY_SECONDS: "3600",
      HIVE_TURN_RETRY_SECONDS: "600",
      HIVE_TURN_ATTEMPTS: "5",
    });
    // A login wait never exceeds 5 min; a failed turn's first wait is what was asked for.
    assert.equal(retryDelay(retry.login, 1), 300_000);
    assert.equal(retryDelay(retry.turn, 1), 600_000);
    assert.equal(retryDelay(retry.turn, 2), 600_000);
    assert.equal(retry.turn.maxAttempts, 5);
  });

  it("the role is shared's AgentRole", () => {
    assert.equal(loadHarnessConfig(base).role, "agent");
    assert.equal(loadHarnessConfig({ ...base, HIVE_ROLE: "manager" }).role, "manager");
    assert.throws(() => loadHarnessConfig({ ...base, HIVE_ROLE: "boss" }), ConfigError);
  });
});
