import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { connect, credsAuthenticator, errors } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  ErrorCode,
  HiveError,
  type Identity,
  inboxPrefix,
  inboxPrefixOf,
  loadOrCreateKeys,
  natsKeyPaths,
  request,
  revokeUsers,
  rpcs,
  subjects,
} from "../src/mod.js";
import {
  probePublish,
  probeSubscribe,
  type SecureNats,
  secureNatsForTests,
  tempDir,
} from "../src/testing/mod.js";

/**
 * The hive's NATS permissions, probed on a real nats-server configured as `hive up` configures
 * it: each identity's credentials, what the server refuses, what it lets through. The issue's
 * probes (sending as another, leasing and acking another's mail, reading `>`, answering in a
 * service's place, forging events) each appear here, refused.
 */

const alice: Identity = { kind: "agent", name: "alice", role: "agent" };
const bob: Identity = { kind: "agent", name: "bob", role: "agent" };
const manager: Identity = { kind: "agent", name: "manager", role: "manager" };

describe("NATS identities and their permissions (decentralized auth)", () => {
  let hive: SecureNats;
  beforeAll(async () => {
    hive = await secureNatsForTests();
  });
  afterAll(async () => {
    await hive?.stop();
  });

  it("refuses a connection without credentials, and one with credentials it did not sign", async () => {
    await assert.rejects(
      connect({ servers: hive.server.url, reconnect: false }),
      (e) => e instanceof errors.AuthorizationError,
    );
    const strangers = await secureNatsForTests();
    try {
      const foreign = await strangers.credsFile(alice);
      await assert.rejects(
        connect({
          servers: hive.server.url,
          reconnect: false,
          authenticator: credsAuthenticator(readFileSync(foreign.path)),
        }),
        (e) => e instanceof errors.AuthorizationError,
      );
    } finally {
      await strangers.stop();
    }
  });

  it("an agent publishes only its own requests, live stream and state; nothing as another, the system, the operator or a service", async () => {
    const nc = await hive.connectAs(alice);
    for (const own of [
      "hive.agent.alice.send",
      "hive.agent.alice.recv",
      "hive.agent.alice.ack",
      "hive.agent.alice.ask",
      "hive.agent.alice.remind",
      "hive.live.alice",
      "hive.events.agent.alice.state",
    ]) {
      assert.equal(await probePublish(nc, own), "allowed", own);
    }
    for (const forged of [
      "hive.agent.manager.send", // sending as the manager
      "hive.agent.bob.recv", // leasing another's mail
      "hive.agent.bob.ack", // acking it
      "hive.agent.bob.release",
      "hive.agent.alice.spawn", // the manager's verbs
      "hive.agent.alice.kill",
      "hive.sys.send", // as system
      "hive.sched.send", // as reminder
      "hive.op.send", // as the operator
      "hive.op.inbox",
      "hive.op.agent.stop",
      "hive.op.ctl.manager.cancel",
      "hive.events.agent.manager.state", // forging another's state
      "hive.events.agent.alice.lifecycle",
      "hive.events.approvals",
      "hive.events.service.broker",
      "hive.inbox.bob", // a forged announcement
      "hive.broadcast",
      "hive.live.bob",
      "hive.c0re.roster",
      "_INBOX.operator.x", // a reply nobody asked it for
      "$SYS.REQ.CLAIMS.UPDATE",
    ]) {
      assert.equal(await probePublish(nc, forged), "refused", forged);
    }
  });

  it("an agent subscribes only to its announcements, broadcasts, its controls and its own replies", async () => {
    const nc = await hive.connectAs(alice);
    for (const own of [
      "hive.inbox.alice",
      "hive.broadcast",
      "hive.op.ctl.alice.model",
      `${inboxPrefix(alice)}.x`,
    ]) {
      assert.equal(await probeSubscribe(nc, own), "allowed", own);
    }
    for (const eavesdrop of [
      ">",
      "hive.>",
      "hive.live.bob", // another's live turns
      "hive.live.*",
      "hive.inbox.bob", // another's announcements
      "hive.inbox.operator",
      "hive.events.>",
      "_INBOX.>", // everyone's replies
      `${inboxPrefix(bob)}.>`,
      "_INBOX.operator.>",
      "hive.op.ctl.bob.model",
      // a fake responder for a service
      "hive.agent.*.send",
      "hive.agent.bob.send",
      "hive.op.send",
      "hive.op.agents",
      "hive.sys.send",
    ]) {
      assert.equal(await probeSubscribe(nc, eavesdrop), "refused", eavesdrop);
    }
    // Joining c0re's queue group is a subscription like any other.
    assert.equal(await probeSubscribe(nc, "hive.op.agents", "c0re"), "refused");
  });

  it("the manager has its extra verbs; a sub-agent's credentials do not", async () => {
    const m = await hive.connectAs(manager);
    assert.equal(await probePublish(m, "hive.agent.manager.spawn"), "allowed");
    assert.equal(await probePublish(m, "hive.agent.manager.apply_commit"), "allowed");
    assert.equal(await probePublish(m, "hive.agent.alice.spawn"), "refused");
    const b = await hive.connectAs(bob);
    assert.equal(await probePublish(b, "hive.agent.bob.spawn"), "refused");
  });

  it("the operator asks hive.op.* and reads events; it answers nothing and speaks for no agent", async () => {
    const nc = await hive.connectAs({ kind: "operator" });
    assert.equal(await probePublish(nc, "hive.op.send"), "allowed");
    assert.equal(await probePublish(nc, "hive.op.ctl.alice.cancel"), "allowed");
    assert.equal(await probeSubscribe(nc, "hive.events.agent.alice.state"), "allowed");
    assert.equal(await probePublish(nc, "hive.agent.manager.send"), "refused");
    assert.equal(await probePublish(nc, "hive.sys.send"), "refused");
    assert.equal(await probePublish(nc, "hive.events.agent.manager.state"), "refused");
    assert.equal(await probeSubscribe(nc, "hive.op.send"), "refused");
    assert.equal(await probeSubscribe(nc, "hive.agent.manager.recv"), "refused");
    assert.equal(await probeSubscribe(nc, "_INBOX.>"), "refused");
  });

  it("each service serves only its own subjects and publishes only its own events", async () => {
    const broker = await hive.connectAs({ kind: "service", name: "broker" });
    assert.equal(await probeSubscribe(broker, "hive.agent.*.send", "broker"), "allowed");
    assert.equal(await probeSubscribe(broker, "hive.agent.*.spawn"), "refused");
    assert.equal(await probeSubscribe(broker, "hive.op.agents"), "refused");
    assert.equal(await probePublish(broker, "hive.inbox.alice"), "allowed");
    assert.equal(await probePublish(broker, "hive.events.agent.manager.state"), "refused");
    assert.equal(await probePublish(broker, "hive.agent.manager.send"), "refused");

    const c0re = await hive.connectAs({ kind: "service", name: "c0re" });
    assert.equal(await probeSubscribe(c0re, "hive.op.agents", "c0re"), "allowed");
    assert.equal(await probeSubscribe(c0re, "hive.agent.*.send"), "refused");
    assert.equal(await probeSubscribe(c0re, "hive.op.send"), "refused");
    assert.equal(await probePublish(c0re, "hive.sys.send"), "allowed");
    assert.equal(await probePublish(c0re, "hive.sched.send"), "refused");

    const scheduler = await hive.connectAs({ kind: "service", name: "scheduler" });
    assert.equal(await probePublish(scheduler, "hive.sched.send"), "allowed");
    assert.equal(await probePublish(scheduler, "hive.sys.send"), "refused");
    assert.equal(await probeSubscribe(scheduler, "hive.agent.*.recv"), "refused");

    const web = await hive.connectAs({ kind: "service", name: "web" });
    assert.equal(await probeSubscribe(web, "hive.live.alice"), "allowed");
    assert.equal(await probeSubscribe(web, "hive.op.>"), "refused");
    assert.equal(await probePublish(web, "hive.agent.manager.send"), "refused");
    assert.equal(await probePublish(web, "hive.events.agent.manager.state"), "refused");
  });

  it("a request's reply reaches only the asker: its own inbox prefix, and the responder may answer only what it was asked", async () => {
    const nc = await hive.connectAs(alice);
    const spy = await hive.connectAs(bob);
    const broker = await hive.connectAs({ kind: "service", name: "broker" });
    broker.subscribe("hive.agent.*.send", {
      queue: "broker",
      callback: (_e, m) => {
        m.respond("stored");
      },
    });
    await broker.flush();
    const reply = await nc.request("hive.agent.alice.send", "hi", { timeout: 2000 });
    assert.equal(new TextDecoder().decode(reply.data), "stored");
    assert.ok(reply.subject.startsWith(`${inboxPrefix(alice)}.`), reply.subject);
    // Bob cannot listen there, and the responder cannot write there unasked.
    assert.equal(await probeSubscribe(spy, `${inboxPrefix(alice)}.>`), "refused");
    assert.equal(await probePublish(broker, `${inboxPrefix(alice)}.anything`), "refused");
  });

  it("a request on a subject it may not use is refused at once: the typed error forbidden", async () => {
    const nc = await hive.connectAs(alice);
    await assert.rejects(
      request(nc, subjects.op.agents, rpcs.opAgents, {}, { timeoutMs: 5000 }),
      (e) =>
        e instanceof HiveError &&
        e.code === ErrorCode.Forbidden &&
        e.message === "not permitted to publish hive.op.agents",
    );
  });

  it("credentials minted while the server runs work at once; revoked ones are cut off and refused", async () => {
    const fresh = await hive.credsFile({ kind: "agent", name: "carol", role: "agent" });
    const carol = await connect({
      servers: hive.server.url,
      reconnect: false,
      authenticator: credsAuthenticator(readFileSync(fresh.path)),
    });
    assert.equal(await probePublish(carol, "hive.agent.carol.send"), "allowed");
    const other = await hive.connectAs(alice);
    const closed = carol.closed();
    const system = await hive.system();
    await revokeUsers(hive.keysDir, hive.authority, system, [fresh.publicKey]);
    await closed;
    await assert.rejects(
      connect({
        servers: hive.server.url,
        reconnect: false,
        authenticator: credsAuthenticator(readFileSync(fresh.path)),
      }),
      (e) => e instanceof errors.AuthorizationError,
    );
    // Everyone else stays connected.
    assert.equal(other.isClosed(), false);
    assert.equal(await probePublish(other, "hive.agent.alice.send"), "allowed");
    const kept = JSON.parse(readFileSync(natsKeyPaths(hive.keysDir).revocations, "utf8"));
    assert.ok(fresh.publicKey in kept);
  });

  it("keys are created once, owner-only, and read back the same", () => {
    const dir = tempDir("hive-keys-");
    try {
      const keysDir = `${dir.path}/private/nats`;
      const first = loadOrCreateKeys(keysDir);
      assert.deepEqual(loadOrCreateKeys(keysDir), first);
      assert.equal(statSync(natsKeyPaths(keysDir).keys).mode & 0o777, 0o600);
      assert.equal(statSync(keysDir).mode & 0o777, 0o700);
    } finally {
      dir.remove();
    }
  });

  it("a connection's reply prefix comes from its credentials", async () => {
    const { path } = await hive.credsFile(alice);
    assert.equal(inboxPrefixOf(readFileSync(path)), inboxPrefix(alice));
  });
});
