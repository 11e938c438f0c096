import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  type Db,
  ErrorCode,
  HiveError,
  hivePaths,
  openDatabase,
  request,
  rpcs,
  type Service,
  subjects,
} from "@hyperhive/shared";
import {
  probePublish,
  probeSubscribe,
  type SecureNats,
  secureNatsForTests,
  tempDir,
  waitUntil,
} from "@hyperhive/shared/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { agentLogFile } from "../src/agent-log.js";
import { serveFiles } from "../src/file-subjects.js";
import { Registry } from "../src/registry.js";
import { migrations } from "../src/schema.js";
import { StateFiles } from "../src/state-files.js";
import { type Hive, startHive } from "./hive.js";
import { silentLog } from "./rig.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * `hive.op.files.*` on a NATS server with the hive's auth: c0re serves them with the registry,
 * the operator asks; malformed payloads are bad_request and change nothing; no agent can ask
 * (nor pose as c0re to answer).
 */
describe("hive.op.files.* on the wire", () => {
  let hive: SecureNats;
  let root: ReturnType<typeof tempDir>;
  let db: Db;
  let c0re: NatsConnection;
  let operator: NatsConnection;
  let services: Service[];
  let state: string;

  beforeAll(async () => {
    hive = await secureNatsForTests();
    root = tempDir("c0re-file-subjects-");
    db = openDatabase(":memory:", migrations);
    const registry = new Registry(db);
    registry.register("alice", "agent", 1);
    registry.register("gone", "agent", 2);
    registry.tombstone("gone", 3);
    const paths = hivePaths(root.path);
    state = paths.agentStateDir("alice");
    mkdirSync(join(state, "notes"), { recursive: true, mode: 0o755 });
    chmodSync(state, 0o700);
    writeFileSync(join(state, "notes/today.md"), "hello\n", { mode: 0o644 });
    writeFileSync(join(state, "notes/secret.md"), "mine\n", { mode: 0o600 });
    symlinkSync(join(state, "notes"), join(state, "link"));
    mkdirSync(paths.agentStateDir("gone"), { recursive: true });
    writeFileSync(join(paths.agentStateDir("gone"), "last.md"), "bye\n", { mode: 0o644 });
    mkdirSync(paths.sharedDir, { mode: 0o1777 });
    writeFileSync(join(paths.sharedDir, "plan.md"), "shared plan\n", { mode: 0o644 });
    const log = agentLogFile(root.path, "alice");
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, "one\ntwo\nthree\n");
    c0re = await hive.connectAs({ kind: "service", name: "c0re" });
    operator = await hive.connectAs({ kind: "operator" });
    const files = new StateFiles({
      root: root.path,
      known: (n) => registry.get(n) !== undefined,
      capBytes: 1000,
    });
    services = serveFiles({ nc: c0re, log: silentLog, files });
    await c0re.flush();
  });
  afterAll(async () => {
    await Promise.allSettled((services ?? []).map((s) => s.stop()));
    await hive?.stop();
    db?.close();
    root?.remove();
  });

  const op = subjects.op.files;

  it("lists, reads and tails for the operator", async () => {
    const list = await request(operator, op.list, rpcs.opFilesList, {
      agent: "alice",
      path: "notes",
    });
    assert.deepEqual(
      list.entries.map((e) => [e.name, e.kind, e.readable]),
      [
        ["secret.md", "file", false],
        ["today.md", "file", true],
      ],
    );
    const page = await request(operator, op.list, rpcs.opFilesList, {
      agent: "alice",
      path: "notes",
      after: "secret.md",
    });
    assert.deepEqual(
      page.entries.map((e) => e.name),
      ["today.md"],
      "the page after a name",
    );
    const file = await request(operator, op.read, rpcs.opFileRead, {
      agent: "alice",
      path: "notes/today.md",
    });
    assert.equal(file.content, "hello\n");
    assert.equal(file.encoding, "utf8");
    const log = await request(operator, op.log, rpcs.opAgentLog, { agent: "alice", lines: 2 });
    assert.deepEqual(log.lines, ["two", "three"]);
    // Following it: nothing new after its end.
    const next = await request(operator, op.log, rpcs.opAgentLog, {
      agent: "alice",
      after: log.end,
    });
    assert.deepEqual(next, { agent: "alice", lines: [], end: log.end });
    // A tombstone's state dir is kept until it is purged: still readable.
    const last = await request(operator, op.read, rpcs.opFileRead, {
      agent: "gone",
      path: "last.md",
    });
    assert.equal(last.content, "bye\n");
    // The shared dir every agent writes in.
    const shared = await request(operator, op.list, rpcs.opFilesList, { shared: true });
    assert.deepEqual(
      { ...shared, entries: shared.entries.map((e) => e.name) },
      { shared: true, path: "", entries: ["plan.md"], truncated: false },
    );
    const plan = await request(operator, op.read, rpcs.opFileRead, {
      shared: true,
      path: "plan.md",
    });
    assert.deepEqual([plan.content, "shared" in plan], ["shared plan\n", true]);
  });

  it("answers refusals with typed errors", async () => {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
        return "ok";
      } catch (e) {
        assert.ok(HiveError.is(e));
        return e.code;
      }
    };
    const read = (agent: string, path: string) =>
      code(request(operator, op.read, rpcs.opFileRead, { agent, path }));
    assert.equal(await read("alice", "notes/secret.md"), ErrorCode.Forbidden);
    assert.equal(await read("alice", "link/today.md"), ErrorCode.Forbidden);
    assert.equal(await read("alice", "nope"), ErrorCode.NotFound);
    assert.equal(await read("zed", "x"), ErrorCode.NotFound);
    assert.equal(
      await code(request(operator, op.log, rpcs.opAgentLog, { agent: "zed" })),
      ErrorCode.NotFound,
    );
  });

  it("answers malformed payloads on every subject with bad_request, changing nothing", async () => {
    const before = snapshot();
    const cases: [string, unknown[]][] = [
      [
        op.list,
        [
          { agent: "alice", path: "notes", extra: 1 },
          { agent: "alice", path: "../bob" },
          { agent: "alice", path: "notes/../../x" },
          { agent: "alice", path: "/etc" },
          { agent: "alice", path: "a\u0000b" },
          { agent: "alice", path: "" },
          { agent: "alice", path: 7 },
          { agent: "Alice!" },
          { agent: "operator" },
          { path: "notes" },
          { shared: true, agent: "alice" },
          { shared: false },
          { shared: "yes" },
          { shared: true, path: "../agents/alice/state" },
          { agent: "alice", after: "" },
          { agent: "alice", after: "a/b" },
          { agent: "alice", after: "x".repeat(256) },
          { agent: "alice", after: 3 },
          "not an object",
        ],
      ],
      [
        op.read,
        [
          { agent: "alice", path: "notes/today.md", as: "operator" },
          { agent: "alice", path: "../../gone/state/last.md" },
          { agent: "alice", path: "x".repeat(1025) },
          { agent: "alice" },
          { agent: "alice", path: "notes/today.md", max_bytes: 0 },
          { agent: "alice", path: "notes/today.md", max_bytes: "10" },
          { agent: "alice", path: "notes/today.md", max_bytes: 1.5 },
          { agent: 1, path: "notes/today.md" },
          { shared: true },
          { shared: true, agent: "alice", path: "notes/today.md" },
          { shared: true, path: "/etc/passwd" },
        ],
      ],
      [
        op.log,
        [
          { agent: "alice", lines: 0 },
          { agent: "alice", lines: 2001 },
          { agent: "alice", lines: "5" },
          { agent: "alice", follow: true },
          { agent: "alice", after: -1 },
          { agent: "alice", after: 1.5 },
          { agent: "alice", after: "0" },
          { agent: "../alice" },
          {},
        ],
      ],
    ];
    for (const [subject, payloads] of cases) {
      for (const p of payloads) {
        const reply = await operator.request(subject, enc.encode(JSON.stringify(p)), {
          timeout: 5000,
        });
        assert.equal(
          errorCode(reply.data),
          ErrorCode.BadRequest,
          `${subject} ${JSON.stringify(p)}`,
        );
      }
      const raw = await operator.request(subject, enc.encode("{not json"), { timeout: 5000 });
      assert.equal(errorCode(raw.data), ErrorCode.BadRequest, `${subject} not JSON`);
    }
    assert.deepEqual(snapshot(), before);
  });

  it("no agent may ask (spoofing the operator) nor answer (posing as c0re)", async () => {
    const agent = await hive.connectAs({ kind: "agent", name: "alice", role: "agent" });
    const manager = await hive.connectAs({ kind: "agent", name: "manager", role: "manager" });
    for (const nc of [agent, manager]) {
      for (const s of [op.list, op.read, op.log]) {
        assert.equal(await probePublish(nc, s), "refused", s);
        assert.equal(await probeSubscribe(nc, s, "c0re"), "refused", s);
      }
    }
    // Not even through its own subjects: the agent's identity is its token, and none is a files verb.
    assert.equal(await probePublish(agent, "hive.agent.alice.files.read"), "refused");
    const web = await hive.connectAs({ kind: "service", name: "web" });
    const r = await request(web, op.read, rpcs.opFileRead, {
      agent: "alice",
      path: "notes/today.md",
    });
    assert.equal(r.content, "hello\n");
    assert.equal(await probeSubscribe(web, op.read, "c0re"), "refused", "the web cannot answer");
  });

  /** The state dirs and log, as they are: a refused request must leave them so. */
  function snapshot() {
    const read = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true, recursive: true }).map(
        (d) => `${d.parentPath}/${d.name}`,
      );
    return {
      tree: read(root.path).sort(),
      today: readFileSync(join(state, "notes/today.md"), "utf8"),
    };
  }
});

function errorCode(data: Uint8Array): string | undefined {
  const v: unknown = JSON.parse(dec.decode(data));
  if (typeof v !== "object" || v === null || !("error" in v)) return undefined;
  const err = v.error;
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

/** The real c0re (built) serves `hive.op.files.*` from its registry and the manager's state dir. */
describe("hive.op.files.* from a running c0re", () => {
  let h: Hive | undefined;
  beforeAll(async () => {
    h = await startHive("c0re-files-e2e-");
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("lists and reads the manager's files, tails its log, refuses its private ones", async () => {
    assert.ok(h);
    const { nc, root } = h;
    const state = hivePaths(root).agentStateDir("manager");
    writeFileSync(join(state, "shared-note.md"), "for the operator\n", { mode: 0o644 });
    chmodSync(join(state, "shared-note.md"), 0o644);
    writeFileSync(join(state, "diary.md"), "mine\n", { mode: 0o600 });
    const op = subjects.op.files;
    const list = await request(nc, op.list, rpcs.opFilesList, { agent: "manager" });
    const note = list.entries.find((e) => e.name === "shared-note.md");
    assert.deepEqual([note?.kind, note?.readable], ["file", true]);
    const read = await request(nc, op.read, rpcs.opFileRead, {
      agent: "manager",
      path: "shared-note.md",
    });
    assert.equal(read.content, "for the operator\n");
    await assert.rejects(
      request(nc, op.read, rpcs.opFileRead, { agent: "manager", path: "diary.md" }),
      (e) => HiveError.is(e, ErrorCode.Forbidden),
    );
    // Its harness wrote its log when it started: the ready line at least.
    const tail = await waitUntil(
      async () => {
        const r = await request(nc, op.log, rpcs.opAgentLog, { agent: "manager", lines: 5 });
        return r.lines.length > 0 ? r : undefined;
      },
      { timeoutMs: 10_000, what: "the manager's log" },
    );
    assert.ok(tail.lines.length <= 5);
  });
});
