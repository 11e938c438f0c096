import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  type AgentStateEvent,
  hivePaths,
  type NatsServerHandle,
  openDatabase,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { natsForTests, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { agentLogFile } from "../src/agent-log.js";
import { BwrapDriver } from "../src/bwrap-driver.js";
import {
  AgentUids,
  bwrapArgs,
  probeSandbox,
  SANDBOX_UID_BASE,
  SHARED_DIR_MODE,
} from "../src/sandbox.js";
import { migrations } from "../src/schema.js";
import { calls, type Hive, REPO, startHive } from "./hive.js";
import { silentLog } from "./rig.js";

const PROBE = join(REPO, "services/c0re/test/fixtures/bwrap-probe.mjs");
const asRoot = process.getuid?.() === 0;

/** The probe fixture's ready line. */
const ProbeLine = z.object({
  ready: z.literal("harness"),
  probe: z.object({
    uid: z.number(),
    gid: z.number(),
    capEff: z.string(),
    capBnd: z.string(),
    noNewPrivs: z.string(),
    pid: z.number(),
    pids: z.array(z.number()),
    tmpEntries: z.array(z.string()),
    read: z.record(z.string(), z.string()),
    write: z.record(z.string(), z.string()),
    own: z.object({ state: z.string(), tmp: z.string() }),
    nats: z.string(),
    home: z.string(),
    cwd: z.string(),
  }),
});

/** Files an agent must not read, with secrets in them, and places it must not write to. */
function plantSecrets(root: string, other: string) {
  const p = hivePaths(root);
  const otherState = p.agentStateDir(other);
  mkdirSync(otherState, { recursive: true });
  mkdirSync(p.natsKeysDir, { recursive: true, mode: 0o700 });
  mkdirSync(p.logsDir, { recursive: true });
  const secrets = {
    other: join(otherState, "secret.txt"),
    key: join(p.natsKeysDir, "operator.nk"),
    hiveJson: p.runtimeFile,
    log: join(p.logsDir, `${other}.log`),
  };
  for (const [k, f] of Object.entries(secrets)) writeFileSync(f, `SECRET-${k}-0451\n`);
  return {
    secrets,
    /** Where writes must fail; none of them exists before. */
    outside: [
      "/etc/hyperhive-bwrap-probe",
      join(REPO, "hyperhive-bwrap-probe"),
      join(otherState, "pwned"),
      join(root, "pwned"),
    ],
  };
}

/** Not a skip: `npm test` installs bubblewrap, so a machine where it cannot run is a broken run. */
function assertSandboxUsable(): void {
  const p = probeSandbox();
  if (!p.usable) throw new Error(`bwrap tests need a working bwrap: ${p.reason}`);
}

describe("bwrap arguments", () => {
  it("shows again what the agent must keep under a hidden /tmp or HOME (a repo cloned under /tmp)", () => {
    const args = bwrapArgs({
      root: "/tmp/hive-root",
      name: "alice",
      user: { kind: "userns" },
      home: "/home/op",
      keep: ["/tmp/ci/repo", "/home/op/.nvm/node", "/usr/lib/node"],
      command: ["node", "harness.js"],
    });
    const after = (mount: string[], bind: string) => {
      const at = args.findIndex((_a, i) => mount.every((m, j) => args[i + j] === m));
      const rebound = args.findIndex((a, i) => a === "--ro-bind" && args[i + 1] === bind);
      return at >= 0 && rebound > at;
    };
    assert.ok(after(["--tmpfs", "/tmp"], "/tmp/ci/repo"), args.join(" "));
    // Its parent made 0755 first: bwrap would make it 0700, root's, and the agent stop there.
    assert.ok(after(["--perms", "0755", "--dir", "/tmp/ci"], "/tmp/ci/repo"), args.join(" "));
    assert.ok(after(["--tmpfs", "/home/op"], "/home/op/.nvm/node"), args.join(" "));
    assert.ok(!args.includes("/usr/lib/node"), "outside the hidden dirs: already visible");
  });

  it("rebuilds a kept dir others may not enter (a clone in a 0700 mktemp dir) as 0755, its entries bound one by one", () => {
    const dir = tempDir("c0re-keep-");
    try {
      const repo = join(dir.path, "repo");
      mkdirSync(join(repo, "services"), { recursive: true });
      writeFileSync(join(repo, "package.json"), "{}\n");
      symlinkSync("services", join(repo, "link"));
      const argsNow = () =>
        bwrapArgs({
          root: "/srv/hive-root",
          name: "alice",
          user: { kind: "userns" },
          // Hidden as HOME, wherever the temp dir is.
          home: dir.path,
          keep: [repo],
          command: ["node", "harness.js"],
        }).join(" ");
      chmodSync(repo, 0o700);
      const args = argsNow();
      assert.ok(args.includes(`--perms 0755 --dir ${repo} `), args);
      assert.ok(args.includes(`--ro-bind ${repo}/services ${repo}/services`), args);
      assert.ok(args.includes(`--ro-bind ${repo}/package.json ${repo}/package.json`), args);
      assert.ok(args.includes(`--symlink services ${repo}/link`), args);
      assert.ok(!args.includes(`--ro-bind ${repo} `), "the 0700 dir itself is not bound");
      chmodSync(repo, 0o755);
      const open = argsNow();
      assert.ok(
        open.includes(`--ro-bind ${repo} ${repo}`),
        "one that others may enter is bound whole",
      );
    } finally {
      dir.remove();
    }
  });
});

describe("bwrap, run for real", () => {
  it("an agent reaches a repo cloned inside a dir only root may enter (a 0700 mktemp dir under /tmp)", () => {
    assertSandboxUsable();
    const outer = tempDir("c0re-outer-");
    try {
      chmodSync(outer.path, 0o700);
      const repo = join(outer.path, "hyperhive");
      mkdirSync(repo, { mode: 0o755 });
      chmodSync(repo, 0o755);
      writeFileSync(join(repo, "package.json"), "{}\n", { mode: 0o644 });
      const root = join(outer.path, "root");
      const p = hivePaths(root);
      for (const d of [p.agentStateDir("alice"), p.agentRunDir("alice"), p.sharedDir]) {
        mkdirSync(d, { recursive: true });
      }
      // As root the agent is a uid of its own, which the 0700 dir shuts out; in a user namespace
      // it keeps c0re's uid, which may pass it anyway.
      const user = asRoot
        ? { kind: "uid" as const, uid: SANDBOX_UID_BASE + 99, gid: SANDBOX_UID_BASE + 99 }
        : { kind: "userns" as const };
      const args = bwrapArgs({
        root,
        name: "alice",
        user,
        keep: [repo],
        command: ["cat", join(repo, "package.json")],
      });
      const r = spawnSync("bwrap", args, { encoding: "utf8" });
      assert.equal(r.stdout, "{}\n", `${r.stderr}\nbwrap ${args.join(" ")}`);
    } finally {
      outer.remove();
    }
  });
});

describe("the shared dir, for real", () => {
  it("each agent writes its own files there and reads the others'; none changes or removes another's, nor the operator's", () => {
    assertSandboxUsable();
    const dir = tempDir("c0re-shared-");
    try {
      const root = dir.path;
      const p = hivePaths(root);
      for (const name of ["alice", "bob"]) {
        mkdirSync(p.agentStateDir(name), { recursive: true });
        mkdirSync(p.agentRunDir(name), { recursive: true });
      }
      mkdirSync(p.sharedDir, { recursive: true });
      chmodSync(p.sharedDir, SHARED_DIR_MODE);
      const shared = p.sharedDir;
      writeFileSync(join(shared, "brief.md"), "from the operator\n", { mode: 0o644 });
      /** Runs `script` in `name`'s sandbox (its own uid under root); its stdout and stderr. */
      const as = (name: string, n: number, script: string) => {
        const user = asRoot
          ? { kind: "uid" as const, uid: SANDBOX_UID_BASE + 90 + n, gid: SANDBOX_UID_BASE + 90 + n }
          : { kind: "userns" as const };
        const args = bwrapArgs({ root, name, user, keep: [], command: ["sh", "-c", script] });
        const r = spawnSync("bwrap", args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
        return `${r.stdout}${r.stderr}`;
      };
      /** `cmd` as a line saying whether it worked. */
      const tryIt = (label: string, cmd: string) =>
        `if ${cmd} 2>/dev/null; then echo "${label} yes"; else echo "${label} no"; fi`;
      const alice = as(
        "alice",
        1,
        [
          tryIt("write-own", `echo plan > ${shared}/plan.md`),
          tryIt("read-operator", `cat ${shared}/brief.md >/dev/null`),
        ].join("; "),
      );
      assert.match(alice, /write-own yes/);
      assert.match(alice, /read-operator yes/);
      assert.equal(readFileSync(join(shared, "plan.md"), "utf8"), "plan\n");
      const bob = as(
        "bob",
        2,
        [
          tryIt("read-other", `grep -q plan ${shared}/plan.md`),
          tryIt("write-own", `echo notes > ${shared}/bob.md`),
          tryIt("remove-own", `rm ${shared}/bob.md`),
          tryIt("append-other", `echo x >> ${shared}/plan.md`),
          tryIt("remove-other", `rm -f ${shared}/plan.md`),
          tryIt("rename-other", `mv ${shared}/plan.md ${shared}/stolen.md`),
          tryIt("change-operator", `echo x >> ${shared}/brief.md`),
          tryIt("remove-operator", `rm -f ${shared}/brief.md`),
        ].join("; "),
      );
      assert.match(bob, /read-other yes/);
      assert.match(bob, /write-own yes/);
      assert.match(bob, /remove-own yes/);
      assert.equal(existsSync(join(shared, "bob.md")), false);
      if (asRoot) {
        // Separate uids: only a file's owner may change, rename or remove it (the sticky bit).
        for (const refused of [
          "append-other",
          "remove-other",
          "rename-other",
          "change-operator",
          "remove-operator",
        ]) {
          assert.match(bob, new RegExp(`${refused} no`), bob);
        }
        assert.equal(readFileSync(join(shared, "plan.md"), "utf8"), "plan\n");
        assert.equal(readFileSync(join(shared, "brief.md"), "utf8"), "from the operator\n");
        assert.equal(statSync(join(shared, "plan.md")).uid, SANDBOX_UID_BASE + 91);
      }
    } finally {
      dir.remove();
    }
  });
});

describe("bwrap driver: what an agent sees", () => {
  let tmp: ReturnType<typeof tempDir>;
  let nats: NatsServerHandle;
  let driver: BwrapDriver;
  let probe: z.infer<typeof ProbeLine>["probe"];
  let planted: ReturnType<typeof plantSecrets>;
  let dbFile: string;
  let uids: AgentUids;
  const hostTmpMark = join("/tmp", `hyperhive-host-mark-${process.pid}`);

  beforeAll(async () => {
    assertSandboxUsable();
    tmp = tempDir("c0re-bwrap-");
    nats = await natsForTests();
    const root = tmp.path;
    dbFile = hivePaths(root).db("c0re");
    const db = openDatabase(dbFile, migrations);
    uids = new AgentUids(db);
    planted = plantSecrets(root, "bob");
    writeFileSync(hostTmpMark, "host\n");
    driver = new BwrapDriver({
      root,
      harnessBin: PROBE,
      natsUrl: nats.url,
      uids,
      keep: [REPO],
      baseEnv: {
        ...process.env,
        PROBE_READ: JSON.stringify([...Object.values(planted.secrets), dbFile]),
        PROBE_WRITE: JSON.stringify(planted.outside),
        PROBE_NATS: new URL(nats.url).host,
      },
      readyTimeoutMs: 15_000,
      stopGraceMs: 1000,
      log: silentLog,
    });
    await driver.create({ name: "alice", role: "agent" });
    await driver.start({ name: "alice", role: "agent" });
    const line = readFileSync(agentLogFile(root, "alice"), "utf8")
      .split("\n")
      .find((l) => l.startsWith('{"ready"'));
    assert.ok(line, "the probe's ready line is in alice's log");
    probe = ProbeLine.parse(JSON.parse(line)).probe;
  });

  afterAll(async () => {
    await driver?.stopAll();
    await nats?.stop();
    tmp?.remove();
    rmSync(hostTmpMark, { force: true });
  });

  it("reports kind bwrap and runs the agent unprivileged, as its own uid under root", () => {
    assert.equal(driver.kind, "bwrap");
    assert.equal(probe.capEff, "0000000000000000");
    assert.equal(probe.capBnd, asRoot ? "0000000000000000" : probe.capBnd);
    if (asRoot) {
      assert.equal(probe.uid, uids.uidFor("alice"));
      assert.ok(probe.uid > SANDBOX_UID_BASE);
      assert.equal(probe.gid, probe.uid);
      assert.equal(probe.noNewPrivs, "1");
      // Stable: the same name gets the same uid, another name another.
      assert.equal(uids.uidFor("alice"), probe.uid);
      assert.notEqual(uids.uidFor("bob"), probe.uid);
      const st = statSync(hivePaths(tmp.path).agentStateDir("alice"));
      assert.equal(st.uid, probe.uid);
    } else {
      assert.equal(probe.uid, process.getuid?.());
    }
  });

  it("cannot read another agent's state, the databases, the keys, hive.json or the logs", () => {
    for (const f of [...Object.values(planted.secrets), dbFile]) {
      assert.ok(probe.read[f] !== undefined && probe.read[f] !== "ok", `${f}: ${probe.read[f]}`);
    }
  });

  it("cannot write to /etc, the repo, another agent's dirs or the hive root", () => {
    for (const f of planted.outside) {
      assert.ok(probe.write[f] !== undefined && probe.write[f] !== "ok", `${f}: ${probe.write[f]}`);
      assert.ok(!existsSync(f), `${f} appeared on the host`);
    }
  });

  it("writes its own state dir and a private /tmp, sees only its own pids, reaches NATS", () => {
    const state = hivePaths(tmp.path).agentStateDir("alice");
    assert.equal(probe.own.state, "ok");
    assert.equal(readFileSync(join(state, "probe-own"), "utf8"), "mine\n");
    assert.equal(probe.own.tmp, "ok");
    assert.ok(!existsSync("/tmp/probe-tmp"), "the agent's /tmp is not the host's");
    assert.ok(!probe.tmpEntries.includes(hostTmpMark.slice("/tmp/".length)));
    assert.ok(probe.pids.length <= 3 && probe.pids.every((p) => p < 10), String(probe.pids));
    assert.equal(probe.home, state);
    assert.equal(probe.cwd, state);
    assert.equal(probe.nats, "ok");
  });
});

describe("bwrap driver: the manager's claude and its Bash tool", () => {
  let hive: Hive;
  let planted: ReturnType<typeof plantSecrets>;

  beforeAll(async () => {
    assertSandboxUsable();
    hive = await startHive("c0re-bwrap-hive-", { HIVE_DRIVER: "bwrap" });
    planted = plantSecrets(hive.root, "bob");
  });

  afterAll(async () => {
    await hive?.stop();
  });

  it("says it runs bwrap, and the sandboxed harness reaches NATS", async () => {
    assert.equal(hive.c0re.ready.driver, "bwrap");
    await waitUntil(() => hive.seen.states.some((s: AgentStateEvent) => s.agent === "manager"), {
      what: "a state event from the sandboxed manager",
      timeoutMs: 30_000,
    });
  });

  it("refuses every read and write outside its own state, as the tool results show", async () => {
    const db = hivePaths(hive.root).db("broker");
    assert.ok(existsSync(db), "the broker's database exists on the host");
    const reads = [planted.secrets.other, db, planted.secrets.key, planted.secrets.hiveJson];
    const cmd = [
      `for f in ${reads.join(" ")}; do cat "$f" >/dev/null 2>/tmp/err && echo "READ-OK $f" || echo "READ-REFUSED $f: $(cat /tmp/err)"; done`,
      `for f in ${planted.outside.join(" ")}; do touch "$f" 2>/tmp/err && echo "WRITE-OK $f" || echo "WRITE-REFUSED $f: $(cat /tmp/err)"; done`,
      `touch "$HOME/own-ok" && echo "OWN-OK"`,
      "grep CapEff /proc/self/status",
      "echo END-OF-PROBE",
    ].join("; ");
    await hive.model.setScript([
      {
        match: "sandbox-probe",
        reply: [
          { tool_use: { name: "Bash", input: { command: cmd, description: "probe the sandbox" } } },
          { text: "Probed." },
        ],
      },
    ]);
    await calls(hive.nc).send("manager", "sandbox-probe");
    let result = "";
    await waitUntil(
      async () => {
        const found = (await hive.model.requests()).find((r) => r.text.includes("END-OF-PROBE"));
        result = found?.text ?? "";
        return found !== undefined;
      },
      { what: "the Bash tool's result at the model server", timeoutMs: 90_000 },
    );
    for (const f of reads) assert.match(result, new RegExp(`READ-REFUSED ${f}: `), result);
    for (const f of planted.outside) {
      assert.match(result, new RegExp(`WRITE-REFUSED ${f}: `), result);
      assert.ok(!existsSync(f), `${f} appeared on the host`);
    }
    assert.doesNotMatch(result, /READ-OK|WRITE-OK|SECRET-/);
    assert.match(result, /OWN-OK/);
    assert.match(result, /CapEff:\s*0000000000000000/);
    assert.ok(existsSync(join(hivePaths(hive.root).agentStateDir("manager"), "own-ok")));
    for (const f of Object.values(planted.secrets)) {
      assert.match(readFileSync(f, "utf8"), /^SECRET-/, `${f} unchanged`);
    }
  });

  it("claude's Write tool leaves a file in the shared dir, as the agent's uid; c0re serves it to the operator", async () => {
    const shared = hivePaths(hive.root).sharedDir;
    const file = join(shared, "plan-from-manager.md");
    await hive.model.setScript([
      {
        match: "share-plan",
        reply: [
          { tool_use: { name: "Write", input: { file_path: file, content: "the plan\n" } } },
          { text: "Shared." },
        ],
      },
    ]);
    await calls(hive.nc).send("manager", "share-plan");
    await waitUntil(() => existsSync(file), {
      what: "the manager's file in the shared dir",
      timeoutMs: 90_000,
    });
    assert.equal(statSync(shared).mode & 0o7777, SHARED_DIR_MODE);
    if (asRoot) {
      const owner = statSync(file).uid;
      assert.ok(owner > SANDBOX_UID_BASE, `owned by the manager's uid, not ${owner}`);
    }
    const r = await request(hive.nc, subjects.op.files.read, rpcs.opFileRead, {
      shared: true,
      path: "plan-from-manager.md",
    });
    assert.deepEqual([r.content, "shared" in r], ["the plan\n", true]);
  });
});
