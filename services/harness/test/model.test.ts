import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentConfig, ConfigError, createLogger } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";
import { MODEL_FILE, ModelChoice } from "../src/model.js";
import { RUN_CONFIG_FILE, type RunConfig, readRunConfig } from "../src/run-config.js";

const REV_1 = "1".repeat(40);
const REV_2 = "2".repeat(40);
const log = createLogger("model-test", { level: "silent" });
const tmp = tempDir("hive-model-");
afterAll(() => tmp.remove());
let dirs = 0;

/** A fresh dir for one case (all removed after the file). */
function dir(): string {
  const d = join(tmp.path, `case-${++dirs}`);
  mkdirSync(d);
  return d;
}

function run(model: string, rev: string | null): RunConfig {
  return { config: AgentConfig.parse({ model }), rev };
}

describe("agent-config.json", () => {
  it("absent: the defaults with HIVE_MODEL and no rev", () => {
    const d = dir();
    assert.deepEqual(readRunConfig(d, "sonnet"), {
      config: AgentConfig.parse({ model: "sonnet" }),
      rev: null,
    });
  });

  it("present: c0re's config and rev, defaults filled in", () => {
    const d = dir();
    writeFileSync(
      join(d, RUN_CONFIG_FILE),
      JSON.stringify({ config: { model: "opus", env: { A: "1" } }, rev: REV_1 }),
    );
    const r = readRunConfig(d, "haiku");
    assert.equal(r.rev, REV_1);
    assert.equal(r.config.model, "opus");
    assert.deepEqual(r.config.env, { A: "1" });
    assert.equal(r.config.allowed_tools.length, 7);
  });

  it("malformed: a ConfigError naming the file and the field, never the defaults", () => {
    const d = dir();
    const p = join(d, RUN_CONFIG_FILE);
    writeFileSync(p, "{nope");
    assert.throws(() => readRunConfig(d, "haiku"), ConfigError);
    writeFileSync(p, JSON.stringify({ config: { allowed_tools: ["Teleport"] }, rev: REV_1 }));
    assert.throws(() => readRunConfig(d, "haiku"), /allowed_tools/);
    writeFileSync(p, JSON.stringify({ config: {}, rev: "HEAD" }));
    assert.throws(() => readRunConfig(d, "haiku"), /rev/);
  });
});

describe("the model rule", () => {
  it("the config's model until /model; the override is kept under the rev it was set at", () => {
    const d = dir();
    const a = new ModelChoice({ stateDir: d, run: run("haiku", REV_1), log });
    assert.equal(a.effective, "haiku");
    assert.deepEqual(a.set("sonnet"), { model: "sonnet", previous: "haiku" });
    assert.equal(a.effective, "sonnet");
    assert.deepEqual(JSON.parse(readFileSync(join(d, MODEL_FILE), "utf8")), {
      model: "sonnet",
      rev: REV_1,
    });
    // A restart on the same config: the override holds.
    assert.equal(new ModelChoice({ stateDir: d, run: run("haiku", REV_1) }).effective, "sonnet");
    // A new config (c0re applied a commit): it wins, until the next /model.
    const b = new ModelChoice({ stateDir: d, run: run("opus", REV_2), log });
    assert.equal(b.effective, "opus");
    assert.deepEqual(b.set("haiku"), { model: "haiku", previous: "opus" });
    assert.equal(new ModelChoice({ stateDir: d, run: run("opus", REV_2) }).effective, "haiku");
  });

  it("the old one-line file is an override under no rev: kept alone, superseded by any config", () => {
    const d = dir();
    writeFileSync(join(d, MODEL_FILE), "sonnet\n");
    assert.equal(new ModelChoice({ stateDir: d, run: run("haiku", null) }).effective, "sonnet");
    assert.equal(new ModelChoice({ stateDir: d, run: run("haiku", REV_1) }).effective, "haiku");
  });

  it("an unreadable file is ignored: the config's model", () => {
    const d = dir();
    writeFileSync(join(d, MODEL_FILE), "not a model name!\n");
    assert.equal(new ModelChoice({ stateDir: d, run: run("haiku", null), log }).effective, "haiku");
    writeFileSync(join(d, MODEL_FILE), JSON.stringify({ model: "x", rev: "bad" }));
    assert.equal(new ModelChoice({ stateDir: d, run: run("haiku", null), log }).effective, "haiku");
  });
});
