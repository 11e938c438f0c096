import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "vitest";
import { grantsTable } from "../src/mod.js";
import { repoRoot } from "../src/testing/mod.js";

/** A markdown table's rows as trimmed cells, the separator row left out (padding is the formatter's). */
function rows(table: string): string[][] {
  return table
    .trim()
    .split("\n")
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, "")
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((cells) => !cells.every((c) => /^-+$/.test(c)));
}

describe("docs/architecture.md's permissions table", () => {
  it("is the one grants.ts mints users from (regenerate with node scripts/grants-table.mjs)", () => {
    const doc = readFileSync(`${repoRoot(import.meta.url)}/docs/architecture.md`, "utf8");
    const m = /<!-- grants:start -->\n([\s\S]*?)\n<!-- grants:end -->/.exec(doc);
    assert.ok(
      m?.[1],
      "docs/architecture.md has no <!-- grants:start --> … <!-- grants:end --> table",
    );
    assert.deepEqual(rows(m[1]), rows(grantsTable()), `expected:\n${grantsTable()}`);
  });
});
