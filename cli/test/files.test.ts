import assert from "node:assert/strict";
import {
  AgentLogResponse,
  ErrorCode,
  FileReadResponse,
  FilesListResponse,
  HiveError,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { cleanEnv, hive, jsonLines, startHive } from "./helpers.js";
import { pretendHive, StandIns } from "./standins.js";

const MTIME = Date.UTC(2026, 10, 22, 10, 23, 40);

/**
 * `hive files` and `hive logs` against c0re stood in for on a real nats-server: what they ask
 * (`hive.op.files.*`), what they print, `--json`, c0re's refusals as `hive: …` lines, and usage
 * errors before anything reaches NATS.
 */
describe("hive files / hive logs (c0re stood in for)", () => {
  let nats: NatsServerHandle;
  let tmp: ReturnType<typeof tempDir>;
  let stand: StandIns;
  const aliceLog = ["one", "two"];
  const cli = (...args: string[]) => hive([...args, "--root", tmp.path], cleanEnv(tmp.path));
  /** Runs the command; returns its result and what c0re was asked meanwhile. */
  const asked = async (...args: string[]) => {
    const from = stand.calls.length;
    const r = await cli(...args);
    return { ...r, calls: stand.since(from) };
  };

  beforeAll(async () => {
    nats = await natsForTests();
    tmp = tempDir("hive-cli-files-");
    pretendHive(tmp.path, nats.url);
    stand = await StandIns.connect(nats.url);
    stand.on(subjects.op.files.list, rpcs.opFilesList, (r) => {
      const place = "shared" in r ? { shared: true as const } : { agent: r.agent };
      if ("agent" in r && r.agent === "zed") {
        throw new HiveError(ErrorCode.NotFound, "no agent named zed");
      }
      if (r.path === "notes/today.md" || r.path === "blob.bin" || r.path === "private.md") {
        throw new HiveError(ErrorCode.BadRequest, `${r.path} is not a directory (read it instead)`);
      }
      // Pages of two: what a directory over c0re's 1,000 entries looks like.
      if (r.path === "many") {
        const names = ["a.md", "b.md", "c.md", "d.md", "e.md"].filter((n) => n > (r.after ?? ""));
        const entry = (name: string) => ({
          name,
          kind: "file" as const,
          size: 1,
          mtime: MTIME,
          readable: true,
        });
        return {
          ...place,
          path: "many",
          entries: names.slice(0, 2).map(entry),
          truncated: names.length > 2,
        };
      }
      if (r.path === "empty" || ("shared" in r && r.path === undefined)) {
        return { ...place, path: r.path ?? "", entries: [], truncated: false };
      }
      return {
        ...place,
        path: r.path ?? "",
        entries: [
          { name: "notes", kind: "dir" as const, size: 4096, mtime: MTIME, readable: true },
          { name: "private.md", kind: "file" as const, size: 12, mtime: MTIME, readable: false },
          { name: "today.md", kind: "file" as const, size: 6, mtime: MTIME, readable: true },
        ],
        truncated: false,
      };
    });
    stand.on(subjects.op.files.read, rpcs.opFileRead, (r) => {
      if (r.path === "private.md") {
        throw new HiveError(ErrorCode.Forbidden, "private.md is not world-readable (mode 0600)");
      }
      const blob = r.path === "blob.bin";
      return {
        ...("shared" in r ? { shared: true as const } : { agent: r.agent }),
        path: r.path,
        size: blob ? 3 : 6,
        mtime: MTIME,
        encoding: blob ? ("base64" as const) : ("utf8" as const),
        content: blob ? Buffer.from([0xff, 0x00, 0x41]).toString("base64") : "hello\n",
      };
    });
    // An offset is a count of lines here: c0re's are bytes, which the CLI only passes back.
    stand.on(subjects.op.files.log, rpcs.opAgentLog, (r) => {
      const all = r.agent === "carol" ? [] : aliceLog;
      const lines = all.slice(r.after ?? 0).slice(-(r.lines ?? 100));
      return { agent: r.agent, lines, end: all.length };
    });
    await stand.flush();
  });
  afterAll(async () => {
    await stand?.close();
    await nats?.stop();
    tmp?.remove();
  });

  it("lists the state dir and a directory as a table, or --json", async () => {
    const r = await asked("files", "alice");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "NAME        KIND  SIZE  MODIFIED             READABLE",
      "notes/      dir   -     2026-11-22 10:23:40  yes",
      "private.md  file  12    2026-11-22 10:23:40  no",
      "today.md    file  6     2026-11-22 10:23:40  yes",
    ]);
    assert.deepEqual(r.calls, [{ subject: subjects.op.files.list, payload: { agent: "alice" } }]);
    const j = await asked("files", "alice", "notes/", "--json");
    assert.equal(j.code, 0, j.stderr);
    const [listing] = jsonLines(j.stdout);
    assert.equal(FilesListResponse.parse(listing).entries.length, 3);
    assert.deepEqual(j.calls, [
      { subject: subjects.op.files.list, payload: { agent: "alice", path: "notes" } },
    ]);
    assert.equal((await cli("files", "alice", "empty")).stdout, "(empty is empty)\n");
  });

  it("lists a directory of several pages whole, asking for each after the last name; --json a line per page", async () => {
    const r = await asked("files", "alice", "many");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(" ")[0]),
      ["NAME", "a.md", "b.md", "c.md", "d.md", "e.md"],
    );
    assert.deepEqual(
      r.calls.map((c) => c.payload),
      [
        { agent: "alice", path: "many" },
        { agent: "alice", path: "many", after: "b.md" },
        { agent: "alice", path: "many", after: "d.md" },
      ],
    );
    const j = await cli("shared", "many", "--json");
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(
      jsonLines(j.stdout).map((p) => FilesListResponse.parse(p).entries.map((e) => e.name)),
      [["a.md", "b.md"], ["c.md", "d.md"], ["e.md"]],
    );
  });

  it("prints a file as it is (a listing's bad_request means it is a file); --json gives the reply", async () => {
    const r = await asked("files", "alice", "notes/today.md");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\n");
    assert.deepEqual(r.calls, [
      { subject: subjects.op.files.list, payload: { agent: "alice", path: "notes/today.md" } },
      { subject: subjects.op.files.read, payload: { agent: "alice", path: "notes/today.md" } },
    ]);
    const j = await cli("files", "alice", "blob.bin", "--json");
    const file = FileReadResponse.parse(jsonLines(j.stdout)[0]);
    assert.equal(file.encoding, "base64");
    assert.deepEqual([...Buffer.from(file.content, "base64")], [0xff, 0x00, 0x41]);
    // A trailing slash asks for a directory only: no read follows.
    const dir = await asked("files", "alice", "notes/today.md/");
    assert.equal(dir.code, 1);
    assert.equal(dir.calls.length, 1);
  });

  it("hive shared: the shared dir, a directory of it or a file, asked of c0re as { shared: true }", async () => {
    const top = await asked("shared");
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stdout, "(the shared dir is empty)\n");
    assert.deepEqual(top.calls, [{ subject: subjects.op.files.list, payload: { shared: true } }]);
    const dir = await asked("shared", "alice/", "--json");
    assert.equal(dir.code, 0, dir.stderr);
    assert.deepEqual(FilesListResponse.parse(jsonLines(dir.stdout)[0]), {
      shared: true,
      path: "alice",
      entries: [
        { name: "notes", kind: "dir", size: 4096, mtime: MTIME, readable: true },
        { name: "private.md", kind: "file", size: 12, mtime: MTIME, readable: false },
        { name: "today.md", kind: "file", size: 6, mtime: MTIME, readable: true },
      ],
      truncated: false,
    });
    const file = await asked("shared", "notes/today.md");
    assert.equal(file.code, 0, file.stderr);
    assert.equal(file.stdout, "hello\n");
    assert.deepEqual(file.calls, [
      { subject: subjects.op.files.list, payload: { shared: true, path: "notes/today.md" } },
      { subject: subjects.op.files.read, payload: { shared: true, path: "notes/today.md" } },
    ]);
    const refused = await asked("shared", "../agents/alice/state");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /a path inside the shared dir/);
    assert.deepEqual(refused.calls, [], "refused before anything reaches c0re");
    const extra = await asked("shared", "a", "b");
    assert.equal(extra.code, 2);
  });

  it("says c0re's refusals on stderr (exit 1), as the wire error with --json", async () => {
    const r = await cli("files", "alice", "private.md");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /private\.md is not world-readable \(mode 0600\)/);
    const j = await cli("files", "zed", "--json");
    assert.equal(j.code, 1);
    assert.deepEqual(jsonLines(j.stdout), [
      { error: { code: "not_found", message: "no agent named zed", retryable: false } },
    ]);
  });

  it("refuses paths outside the state dir and bad arguments before asking c0re (exit 2)", async () => {
    for (const args of [
      ["files", "alice", "../bob"],
      ["files", "alice", "a/../../x"],
      ["files", "alice", "/etc/passwd"],
      ["files", "alice", "a//b"],
      ["files", "Alice!"],
      ["files"],
      ["files", "alice", "a", "b"],
      ["logs", "alice", "--lines", "0"],
      ["logs", "alice", "--lines", "x"],
      ["logs", "alice", "--lines", "2001"],
      ["logs"],
      ["logs", "operator"],
    ]) {
      const r = await asked(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.deepEqual(r.calls, [], args.join(" "));
    }
  });

  it("hive logs prints the log's last lines; --lines and --json", async () => {
    const r = await asked("logs", "alice", "--lines", "2");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "one\ntwo\n");
    assert.deepEqual(r.calls, [
      { subject: subjects.op.files.log, payload: { agent: "alice", lines: 2 } },
    ]);
    const d = await asked("logs", "alice", "--json");
    assert.deepEqual(AgentLogResponse.parse(jsonLines(d.stdout)[0]).lines, ["one", "two"]);
    assert.deepEqual(d.calls[0]?.payload, { agent: "alice", lines: 50 });
    assert.equal((await cli("logs", "carol")).stdout, "(carol has no log yet)\n");
  });

  it("hive logs --follow prints each line the log gains, from where the last answer ended, until ^C", async () => {
    for (const json of [false, true]) {
      aliceLog.splice(2);
      const from = stand.calls.length;
      const args = ["logs", "alice", "--follow", "--lines", "2", "--root", tmp.path];
      const f = startHive(json ? [...args, "--json"] : args, cleanEnv(tmp.path));
      const shown = () =>
        json
          ? jsonLines(f.stdout()).flatMap((v) => AgentLogResponse.parse(v).lines)
          : f.stdout().split("\n").slice(0, -1);
      try {
        await waitUntil(() => shown().length === 2 || undefined, { what: "the tail" });
        aliceLog.push("three", "four");
        await waitUntil(() => shown().length === 4 || undefined, { what: "the new lines" });
        assert.deepEqual(shown(), ["one", "two", "three", "four"]);
        const asks = stand.since(from).map((c) => rpcs.opAgentLog.request.parse(c.payload));
        assert.deepEqual(asks[0], { agent: "alice", lines: 2 });
        assert.deepEqual(asks[1], { agent: "alice", lines: 2000, after: 2 });
        assert.ok(
          asks.slice(1).every((p) => p.lines === 2000 && p.after !== undefined),
          JSON.stringify(asks),
        );
      } finally {
        f.child.kill("SIGINT");
      }
      assert.equal(await f.exited, 0, f.stderr());
    }
  });
});
