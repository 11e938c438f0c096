import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { hyperhiveTools, MANAGER_TOOLS } from "../src/tools.js";
import { REPO } from "./procs.js";

const prompt = (name: string) => readFileSync(join(REPO, "prompts", `${name}.md`), "utf8");

describe("the repo's prompt templates", () => {
  it("each tells its agent of every hyperhive tool it has, and the agent's of none of the manager's", () => {
    for (const role of ["agent", "manager"] as const) {
      const text = prompt(role);
      for (const tool of hyperhiveTools(role)) {
        assert.ok(text.includes(`\`${tool}(`), `${role}.md does not describe ${tool}`);
      }
    }
    const agent = prompt("agent");
    for (const tool of MANAGER_TOOLS) assert.ok(!agent.includes(`\`${tool}(`), tool);
  });

  it("both say a reminder comes as mail from `reminder`", () => {
    for (const role of ["agent", "manager"]) {
      assert.match(prompt(role), /message from `reminder`,\s+`reminder #N: <your text>`/);
    }
  });
});
