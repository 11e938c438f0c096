import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { repoRev } from "../src/rev.js";

/** HYPERHIVE_REV: the commit of the repository hive up runs from, with real git. */
describe("the hive's revision", () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], {
      cwd,
      encoding: "utf8",
    }).trim();

  it("is HEAD of a git checkout, and nothing for a plain dir or a dir inside another repo", async () => {
    const tmp = tempDir("hive-rev-");
    try {
      const repo = join(tmp.path, "repo");
      mkdirSync(join(repo, "inner"), { recursive: true });
      git(repo, "init", "-q");
      assert.equal(await repoRev(repo), undefined, "no commit yet");
      git(repo, "commit", "-q", "--allow-empty", "-m", "one");
      const head = git(repo, "rev-parse", "HEAD");
      assert.match(head, /^[0-9a-f]{40}$/);
      assert.equal(await repoRev(repo), head);
      assert.equal(await repoRev(join(repo, "inner")), undefined, "not a checkout of its own");
      const plain = join(tmp.path, "plain");
      mkdirSync(plain);
      assert.equal(await repoRev(plain), undefined);
      assert.equal(await repoRev(join(tmp.path, "missing")), undefined);
    } finally {
      tmp.remove();
    }
  });
});
