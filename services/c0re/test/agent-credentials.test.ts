import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { hivePaths, inboxPrefix, userClaimsOf } from "@hyperhive/shared";
import {
  probePublish,
  probeSubscribe,
  type SecureNats,
  secureNatsForTests,
  tempDir,
} from "@hyperhive/shared/testing";
import { connect, credsAuthenticator, errors } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from "vitest";
import { NatsAgentCredentials } from "../src/agent-credentials.js";
import { harnessEnv } from "../src/harness-env.js";
import { silentLog } from "./rig.js";

/**
 * c0re's part of the hive's NATS identities: each agent's credentials minted into its run dir
 * (working at once, on a server that was not told), kept across restarts, minted again when they
 * no longer fit, and revoked at destroy — its live connection cut, the file refused after.
 */
describe("agent credentials (c0re mints, the server checks)", () => {
  let hive: SecureNats;
  let root: ReturnType<typeof tempDir>;
  let creds: NatsAgentCredentials;
  beforeAll(async () => {
    hive = await secureNatsForTests();
  });
  afterAll(async () => {
    await hive?.stop();
  });
  beforeEach(() => {
    root = tempDir("c0re-creds-");
    creds = new NatsAgentCredentials({
      root: root.path,
      keysDir: hive.keysDir,
      natsUrl: hive.server.url,
      log: silentLog,
    });
  });
  afterEach(() => root.remove());

  const fileOf = (name: string) => hivePaths(root.path).agentCredsFile(name);
  const connectWith = (path: string) =>
    connect({
      servers: hive.server.url,
      reconnect: false,
      authenticator: credsAuthenticator(readFileSync(path)),
      inboxPrefix: inboxPrefix({ kind: "agent", name: "alice", role: "agent" }),
    });

  it("a spawned agent's credentials work at once, owner-only in its run dir, with its own grants only", async () => {
    await creds.issue({ name: "alice", role: "agent" });
    const path = fileOf("alice");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const nc = await connectWith(path);
    try {
      assert.equal(await probePublish(nc, "hive.agent.alice.send"), "allowed");
      assert.equal(await probePublish(nc, "hive.agent.bob.send"), "refused");
      assert.equal(await probePublish(nc, "hive.agent.alice.spawn"), "refused");
      assert.equal(await probeSubscribe(nc, "hive.inbox.alice"), "allowed");
      assert.equal(await probeSubscribe(nc, "hive.inbox.bob"), "refused");
    } finally {
      await nc.close();
    }
  });

  it("the same user across restarts; a role change mints a new one and revokes the old", async () => {
    await creds.issue({ name: "alice", role: "agent" });
    const first = userClaimsOf(readFileSync(fileOf("alice")));
    await creds.issue({ name: "alice", role: "agent" });
    assert.equal(userClaimsOf(readFileSync(fileOf("alice")))?.sub, first?.sub);

    const old = await connectWith(fileOf("alice"));
    const closed = old.closed();
    await creds.issue({ name: "alice", role: "manager" });
    const second = userClaimsOf(readFileSync(fileOf("alice")));
    assert.notEqual(second?.sub, first?.sub);
    await closed;
    const nc = await connectWith(fileOf("alice"));
    try {
      assert.equal(await probePublish(nc, "hive.agent.alice.spawn"), "allowed");
    } finally {
      await nc.close();
    }
  });

  it("credentials from other keys (rotated) are replaced, not revoked here", async () => {
    const strangers = await secureNatsForTests();
    try {
      const foreign = await strangers.credsFile({ kind: "agent", name: "alice", role: "agent" });
      mkdirSync(dirname(fileOf("alice")), { recursive: true });
      writeFileSync(fileOf("alice"), readFileSync(foreign.path), { mode: 0o600 });
    } finally {
      await strangers.stop();
    }
    await creds.issue({ name: "alice", role: "agent" });
    const nc = await connectWith(fileOf("alice"));
    await nc.close();
  });

  it("destroy revokes: the live connection is cut, the file is gone, and a copy of it is refused", async () => {
    await creds.issue({ name: "bob", role: "agent" });
    const copy = readFileSync(fileOf("bob"));
    const bob = await connectWith(fileOf("bob"));
    const closed = bob.closed();
    const other = await hive.connectAs({ kind: "agent", name: "carol", role: "agent" });
    await creds.revoke("bob");
    await closed;
    assert.equal(existsSync(fileOf("bob")), false);
    await assert.rejects(
      connect({
        servers: hive.server.url,
        reconnect: false,
        authenticator: credsAuthenticator(copy),
      }),
      (e) => e instanceof errors.AuthorizationError,
    );
    assert.equal(other.isClosed(), false);
    // A later agent of the same name gets new credentials that work.
    await creds.issue({ name: "bob", role: "agent" });
    const again = await connectWith(fileOf("bob"));
    await again.close();
  });

  it("the harness is told its own credentials, never c0re's or the keys", () => {
    const env = harnessEnv(
      { name: "alice", role: "agent" },
      { root: root.path, natsUrl: hive.server.url, agentCredentials: true },
      { PATH: "/usr/bin", NATS_CREDS: "/secret/c0re.creds", HIVE_NATS_KEYS_DIR: "/secret/keys" },
    );
    assert.equal(env.NATS_CREDS, fileOf("alice"));
    assert.equal(env.HIVE_NATS_KEYS_DIR, undefined);
    const without = harnessEnv(
      { name: "alice", role: "agent" },
      { root: root.path, natsUrl: hive.server.url },
      { NATS_CREDS: "/secret/c0re.creds" },
    );
    assert.equal(without.NATS_CREDS, undefined);
  });
});
