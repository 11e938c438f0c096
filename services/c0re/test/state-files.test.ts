import assert from "node:assert/strict";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ErrorCode, HiveError, hivePaths } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterEach, beforeEach, describe, it } from "vitest";
import { agentLogFile } from "../src/agent-log.js";
import { StateFiles } from "../src/state-files.js";

/** A rejection with this wire code whose message matches. */
function refusal(code: ErrorCode, re: RegExp = /./) {
  return (e: unknown) => {
    assert.ok(HiveError.is(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

/**
 * The checks behind `hive.op.files.*`, on real files: only world-readable regular files and
 * world-readable directories under the state dir, never through a symlink in any component,
 * never over the cap.
 */
describe("state files (c0re reads an agent's state dir for the operator)", () => {
  let root: ReturnType<typeof tempDir>;
  let files: StateFiles;
  let state: string;
  /** Writes a file under alice's state dir with `mode`, creating its dirs 0755. */
  const put = (rel: string, content: string | Buffer, mode = 0o644) => {
    const path = join(state, rel);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  };

  beforeEach(() => {
    root = tempDir("c0re-state-files-");
    const paths = hivePaths(root.path);
    state = paths.agentStateDir("alice");
    // The state dir itself is the hive's (0700 under `hive up`); only what is below it is checked.
    mkdirSync(state, { recursive: true, mode: 0o700 });
    mkdirSync(paths.agentStateDir("bob"), { recursive: true, mode: 0o755 });
    writeFileSync(join(paths.agentStateDir("bob"), "secret.md"), "bob's\n", { mode: 0o644 });
    files = new StateFiles({
      root: root.path,
      known: (n) => n === "alice" || n === "bob" || n === "ghost",
      capBytes: 64,
    });
  });
  afterEach(() => root.remove());

  it("reads a world-readable file whole, as text", async () => {
    put("notes/today.md", "hello\nworld\n");
    const r = await files.read({ agent: "alice" }, "notes/today.md");
    assert.ok("agent" in r && r.agent === "alice", "the answer names the agent");
    assert.equal(r.path, "notes/today.md");
    assert.equal(r.encoding, "utf8");
    assert.equal(r.content, "hello\nworld\n");
    assert.equal(r.size, 12);
    assert.ok(r.mtime > 0);
  });

  it("refuses a 0600 file, saying it is not world-readable", async () => {
    put("private.md", "mine", 0o600);
    await assert.rejects(
      files.read({ agent: "alice" }, "private.md"),
      refusal(ErrorCode.Forbidden, /not world-readable \(mode 0600\)/),
    );
    put("group.md", "ours", 0o640);
    await assert.rejects(
      files.read({ agent: "alice" }, "group.md"),
      refusal(ErrorCode.Forbidden, /0640/),
    );
  });

  it("refuses traversal outside the state dir, even past the wire schema", async () => {
    // The schema refuses `..` and absolute paths before a request reaches here; the class holds anyway.
    const outside = /must stay inside the dir it names/;
    for (const p of [
      "../../bob/state/secret.md",
      "a/../../x",
      "../x",
      "/etc/passwd",
      "a//b",
      "./x",
    ]) {
      await assert.rejects(
        files.read({ agent: "alice" }, p),
        refusal(ErrorCode.BadRequest, outside),
        p,
      );
      await assert.rejects(
        files.list({ agent: "alice" }, p),
        refusal(ErrorCode.BadRequest, outside),
        p,
      );
    }
  });

  it("refuses a symlink as the last component, even one pointing inside the state dir", async () => {
    put("real.md", "real");
    symlinkSync(join(state, "real.md"), join(state, "inside.md"));
    symlinkSync("real.md", join(state, "relative.md"));
    symlinkSync(
      join(hivePaths(root.path).agentStateDir("bob"), "secret.md"),
      join(state, "bobs.md"),
    );
    for (const p of ["inside.md", "relative.md", "bobs.md"]) {
      await assert.rejects(
        files.read({ agent: "alice" }, p),
        refusal(ErrorCode.Forbidden, /is a symlink/),
        p,
      );
    }
    await assert.rejects(
      files.list({ agent: "alice" }, "inside.md"),
      refusal(ErrorCode.Forbidden, /symlink/),
    );
  });

  it("refuses a symlink as a directory component on the way, inside or outside", async () => {
    put("dir/real.md", "real");
    symlinkSync(join(state, "dir"), join(state, "linkdir"));
    symlinkSync(hivePaths(root.path).agentStateDir("bob"), join(state, "bob"));
    mkdirSync(join(state, "deep/er"), { recursive: true, mode: 0o755 });
    symlinkSync(join(state, "dir"), join(state, "deep/er/via"));
    const cases = [
      ["linkdir/real.md", /linkdir is a symlink/],
      ["bob/secret.md", /bob is a symlink/],
      ["deep/er/via/real.md", /deep\/er\/via is a symlink/],
    ] as const;
    for (const [p, re] of cases) {
      await assert.rejects(files.read({ agent: "alice" }, p), refusal(ErrorCode.Forbidden, re), p);
    }
    await assert.rejects(
      files.list({ agent: "alice" }, "bob"),
      refusal(ErrorCode.Forbidden, /symlink/),
    );
    await assert.rejects(
      files.list({ agent: "alice" }, "deep/er/via"),
      refusal(ErrorCode.Forbidden, /symlink/),
    );
  });

  it("refuses a state dir that is itself a symlink", async () => {
    const ghost = hivePaths(root.path).agentStateDir("ghost");
    mkdirSync(dirname(ghost), { recursive: true });
    symlinkSync(hivePaths(root.path).agentStateDir("bob"), ghost);
    await assert.rejects(
      files.read({ agent: "ghost" }, "secret.md"),
      refusal(ErrorCode.Forbidden, /state dir is a symlink/),
    );
    await assert.rejects(files.list({ agent: "ghost" }), refusal(ErrorCode.Forbidden));
  });

  it("refuses a file over the cap (never cuts it), also under a lower max_bytes", async () => {
    put("big.txt", "x".repeat(65));
    await assert.rejects(
      files.read({ agent: "alice" }, "big.txt"),
      refusal(ErrorCode.BodyTooLarge, /65 bytes: over the 64-byte cap/),
    );
    put("fits.txt", "x".repeat(64));
    assert.equal((await files.read({ agent: "alice" }, "fits.txt")).size, 64);
    await assert.rejects(
      files.read({ agent: "alice" }, "fits.txt", 10),
      refusal(ErrorCode.BodyTooLarge, /10-byte cap/),
    );
    // A max_bytes above the service's cap does not raise it.
    await assert.rejects(
      files.read({ agent: "alice" }, "big.txt", 1000),
      refusal(ErrorCode.BodyTooLarge),
    );
  });

  it("carries a file that is not UTF-8 as base64", async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    put("blob.bin", bytes);
    const r = await files.read({ agent: "alice" }, "blob.bin");
    assert.equal(r.encoding, "base64");
    assert.deepEqual(Buffer.from(r.content, "base64"), bytes);
    assert.equal(r.size, 5);
  });

  it("lists a directory sorted, with kinds and readable flags; refuses one not world-readable", async () => {
    put("notes/a.md", "a");
    put("notes/b.md", "b", 0o600);
    mkdirSync(join(state, "notes/open"), { mode: 0o755 });
    mkdirSync(join(state, "notes/shut"), { mode: 0o700 });
    chmodSync(join(state, "notes/shut"), 0o700);
    symlinkSync("a.md", join(state, "notes/link"));
    const top = await files.list({ agent: "alice" });
    assert.equal(top.path, "");
    assert.deepEqual(
      top.entries.map((e) => [e.name, e.kind, e.readable]),
      [["notes", "dir", true]],
    );
    const r = await files.list({ agent: "alice" }, "notes");
    assert.equal(r.truncated, false);
    assert.deepEqual(
      r.entries.map((e) => [e.name, e.kind, e.readable]),
      [
        ["a.md", "file", true],
        ["b.md", "file", false],
        ["link", "symlink", false],
        ["open", "dir", true],
        ["shut", "dir", false],
      ],
    );
    assert.equal(r.entries[0]?.size, 1);
    await assert.rejects(
      files.list({ agent: "alice" }, "notes/shut"),
      refusal(ErrorCode.Forbidden, /not world-readable/),
    );
    // Nothing below a directory others may not go through is served, even a 0644 file.
    put("notes/shut/inner.md", "x");
    chmodSync(join(state, "notes/shut"), 0o700);
    await assert.rejects(
      files.read({ agent: "alice" }, "notes/shut/inner.md"),
      refusal(ErrorCode.Forbidden, /not world-searchable/),
    );
    await assert.rejects(
      files.list({ agent: "alice" }, "notes/a.md"),
      refusal(ErrorCode.BadRequest, /not a directory/),
    );
    await assert.rejects(
      files.read({ agent: "alice" }, "notes"),
      refusal(ErrorCode.BadRequest, /is a directory/),
    );
  });

  it("says not_found for an unknown agent, a missing state dir and a missing file", async () => {
    await assert.rejects(
      files.read({ agent: "zed" }, "x"),
      refusal(ErrorCode.NotFound, /no agent named zed/),
    );
    await assert.rejects(files.list({ agent: "zed" }), refusal(ErrorCode.NotFound));
    await assert.rejects(files.log("zed"), refusal(ErrorCode.NotFound));
    await assert.rejects(
      files.list({ agent: "ghost" }),
      refusal(ErrorCode.NotFound, /no state dir/),
    );
    await assert.rejects(
      files.read({ agent: "alice" }, "nope.md"),
      refusal(ErrorCode.NotFound, /nope.md: no such/),
    );
    await assert.rejects(files.read({ agent: "alice" }, "nope/x.md"), refusal(ErrorCode.NotFound));
  });

  it("the shared dir: read and listed like a state dir, with the same refusals; not_found before it exists", async () => {
    const shared = hivePaths(root.path).sharedDir;
    await assert.rejects(
      files.list({ shared: true }),
      refusal(ErrorCode.NotFound, /no shared dir/),
    );
    // As the bwrap driver makes it: every agent writes in it, none removes another's files.
    mkdirSync(shared, { mode: 0o1777 });
    chmodSync(shared, 0o1777);
    mkdirSync(join(shared, "alice"), { mode: 0o755 });
    writeFileSync(join(shared, "alice/plan.md"), "the plan\n", { mode: 0o644 });
    writeFileSync(join(shared, "draft.md"), "mine\n", { mode: 0o600 });
    symlinkSync(
      join(hivePaths(root.path).agentStateDir("bob"), "secret.md"),
      join(shared, "bob.md"),
    );
    const top = await files.list({ shared: true });
    assert.deepEqual(
      { ...top, entries: top.entries.map((e) => [e.name, e.kind, e.readable]) },
      {
        shared: true,
        path: "",
        entries: [
          ["alice", "dir", true],
          ["bob.md", "symlink", false],
          ["draft.md", "file", false],
        ],
        truncated: false,
      },
    );
    const r = await files.read({ shared: true }, "alice/plan.md");
    assert.deepEqual(
      { ...r, mtime: 0 },
      {
        shared: true,
        path: "alice/plan.md",
        size: 9,
        mtime: 0,
        encoding: "utf8",
        content: "the plan\n",
      },
    );
    await assert.rejects(
      files.read({ shared: true }, "bob.md"),
      refusal(ErrorCode.Forbidden, /symlink/),
    );
    await assert.rejects(
      files.read({ shared: true }, "draft.md"),
      refusal(ErrorCode.Forbidden, /not world-readable/),
    );
    await assert.rejects(
      files.read({ shared: true }, "../agents/bob/state/secret.md"),
      refusal(ErrorCode.BadRequest),
    );
  });

  it("pages a directory of more than 1,000 entries: each page after the last name of the one before", async () => {
    const many = Array.from({ length: 2005 }, (_, i) => `f${String(i).padStart(4, "0")}.md`);
    for (const n of many) put(`big/${n}`, "x");
    const pages = [];
    let after: string | undefined;
    for (;;) {
      const page = await files.list({ agent: "alice" }, "big", after);
      pages.push(page);
      if (!page.truncated) break;
      after = page.entries.at(-1)?.name;
      assert.ok(after !== undefined && pages.length < 5, "a truncated page names where to go on");
    }
    assert.deepEqual(
      pages.map((p) => [p.entries.length, p.truncated]),
      [
        [1000, true],
        [1000, true],
        [5, false],
      ],
    );
    assert.deepEqual(
      pages.flatMap((p) => p.entries.map((e) => e.name)),
      many,
      "every name once, in order",
    );
    // A name that is not there: the page starts at the next one that is.
    const mid = await files.list({ agent: "alice" }, "big", "f1999.mdz");
    assert.deepEqual(
      mid.entries.map((e) => e.name),
      ["f2000.md", "f2001.md", "f2002.md", "f2003.md", "f2004.md"],
    );
  });

  it("refuses fifos and other non-regular files without blocking on them", async () => {
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfifo", ["-m", "0644", join(state, "pipe")]);
    await assert.rejects(
      files.read({ agent: "alice" }, "pipe"),
      refusal(ErrorCode.Forbidden, /not a regular file \(other\)/),
    );
    const r = await files.list({ agent: "alice" });
    assert.deepEqual(
      r.entries.map((e) => [e.name, e.kind, e.readable]),
      [["pipe", "other", false]],
    );
  });

  it("tails the agent's log: the last lines, none when there is no log", async () => {
    assert.deepEqual(await files.log("alice"), { agent: "alice", lines: [], end: 0 });
    const log = agentLogFile(root.path, "alice");
    mkdirSync(dirname(log), { recursive: true });
    for (let i = 1; i <= 150; i++) appendFileSync(log, `line ${i}\n`);
    const r = await files.log("alice", 3);
    assert.deepEqual(r.lines, ["line 148", "line 149", "line 150"]);
    assert.equal(r.end, statSync(log).size);
    assert.equal((await files.log("alice")).lines.length, 100);
  });

  it("follows the log from an answer's end: new whole lines only, its tail once it was replaced", async () => {
    const log = agentLogFile(root.path, "bob");
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, "a\nb\n");
    const first = await files.log("bob");
    assert.deepEqual(first.lines, ["a", "b"]);
    // A line still being written is left for the next read.
    appendFileSync(log, "c\nd");
    const second = await files.log("bob", 100, first.end);
    assert.deepEqual(second.lines, ["c"]);
    assert.deepEqual(await files.log("bob", 100, second.end), {
      agent: "bob",
      lines: [],
      end: second.end,
    });
    appendFileSync(log, "one\ne\n");
    const third = await files.log("bob", 100, second.end);
    assert.deepEqual(third.lines, ["done", "e"]);
    assert.equal(third.end, statSync(log).size);
    // Only the last `lines` of what is new.
    appendFileSync(log, "f\ng\nh\n");
    assert.deepEqual((await files.log("bob", 2, third.end)).lines, ["g", "h"]);
    // Started afresh (shorter than the offset): its last lines.
    writeFileSync(log, "new\n");
    assert.deepEqual((await files.log("bob", 100, third.end)).lines, ["new"]);
    // More than the 256 KiB window since the offset: the line it cuts is left out.
    const long = `${"x".repeat(300 * 1024)}\nlast\n`;
    writeFileSync(log, `new\n${long}`);
    const cut = await files.log("bob", 100, 4);
    assert.deepEqual(cut.lines, ["last"]);
    assert.equal(cut.end, statSync(log).size);
  });
});
