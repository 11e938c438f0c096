import assert from "node:assert/strict";
import { connectNats, type NatsConnection, request, rpcs, subjects } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { beforeAll, describe, inject, it } from "vitest";
import { readMessages } from "../src/broker-db.js";
import { Hive } from "../src/hive.js";
import { loadBody, SendLoad } from "../src/load.js";
import { NatsNode, uniqueHost } from "../src/nats.js";
import { startNetwork } from "../src/network.js";
import { operatorSend, waitForOperatorMail, writeHiveRuntime } from "../src/operator.js";
import { freePort } from "../src/ports.js";
import { integrationContext } from "./context.js";
import { fileHooks } from "./hooks.js";

const { natsImage, runLabel } = integrationContext(inject("integration"));
const SENDS = 2000;
const IN_FLIGHT = 32;
/** How long one try of a send waits for its reply. */
const TRY_TIMEOUT_MS = 2000;
/** Restart the server once this many sends are acknowledged. */
const RESTART_AFTER = 600;
/** The connection names the services give NATS. */
const SERVICES = ["broker", "c0re", "harness:manager"];

describe("the NATS container restarts in the middle of 2,000 sends", () => {
  const root = tempDir("hive-it-restart-");
  let nats: NatsNode;
  let hive: Hive | undefined;
  let nc: NatsConnection | undefined;
  let load: SendLoad | undefined;

  /** Whether broker, c0re and the manager's harness are connected to the server. */
  const servicesConnected = async (): Promise<boolean> => {
    const names = await nats.clientNames();
    return SERVICES.every((s) => names.includes(s));
  };

  beforeAll(async () => {
    const network = await startNetwork();
    // A fixed host port: the restarted server must be where every client looks for it.
    nats = await NatsNode.start({
      image: natsImage,
      network,
      name: "nats",
      host: uniqueHost("nats"),
      hostPort: await freePort(),
      label: runLabel,
    });
    hive = await Hive.start({ root: root.path, natsUrl: nats.url, agentNatsUrl: nats.url });
    writeHiveRuntime(root.path, nats.url);
    nc = await connectNats({ url: nats.url, name: "load" });
    await waitUntil(servicesConnected, { what: "broker, c0re and the harness connected" });
  }, 90_000);

  fileHooks({
    output: () => hive?.output() ?? "(no hive)",
    cleanup: [() => load?.stop(), () => hive?.stop(), () => nc?.close(), () => root.remove()],
  });

  it("every send is acknowledged, retried with its client id across the restart", async () => {
    assert.ok(nc);
    const sends = new SendLoad({
      nc,
      // To itself: an agent may always mail itself, and no harness wakes for these.
      from: "load",
      to: "load",
      total: SENDS,
      inFlight: IN_FLIGHT,
      tryTimeoutMs: TRY_TIMEOUT_MS,
      deadlineMs: 60_000,
    });
    load = sends;
    await waitUntil(() => sends.acks.size >= RESTART_AFTER, {
      timeoutMs: 30_000,
      intervalMs: 1,
      what: `${RESTART_AFTER} sends acknowledged`,
    });
    const restartAt = performance.now();
    await nats.restart();
    const readyAt = performance.now();
    const [backAt] = await Promise.all([
      waitUntil(servicesConnected, {
        timeoutMs: 20_000,
        intervalMs: 50,
        what: "broker, c0re and the harness connected again",
      }).then(() => performance.now()),
      sends.done,
    ]);

    const acks = [...sends.acks.values()];
    const before = acks.filter((a) => a.at < restartAt).length;
    const during = acks.filter((a) => a.at >= restartAt && a.at < readyAt).length;
    const firstAfter = Math.min(...acks.filter((a) => a.at >= readyAt).map((a) => a.at));
    const duplicates = acks.filter((a) => a.duplicate).length;
    assert.equal(acks.length, SENDS);
    assert.equal(new Set(acks.map((a) => a.id)).size, SENDS, "one message id per client id");
    console.log(
      `restart: ${SENDS} sends issued (${IN_FLIGHT} in flight); acknowledged: ${before} before the ` +
        `restart, ${during} while it ran, ${acks.length - before - during} after; ${duplicates} ` +
        `duplicates detected (stored, reply lost, retried with the same client id); ` +
        `${sends.failedTries} tries lost their reply (retried after their ${TRY_TIMEOUT_MS} ms ` +
        `timeout). The restart took ${Math.round(readyAt - restartAt)} ms; broker, c0re and ` +
        `harness were connected again ${Math.round(backAt - restartAt)} ms and acks resumed ` +
        `${Math.round(firstAfter - restartAt)} ms after it began`,
    );
  });

  it("every service comes back by itself: the broker, c0re and the manager answer again", async () => {
    assert.ok(nc);
    const t = performance.now();
    const agents = await request(nc, subjects.op.agents, rpcs.opAgents, {});
    const manager = agents.agents.find((a) => a.name === "manager");
    assert.equal(manager?.running, true);
    assert.equal(manager?.starts, 1, "the harness reconnected; c0re did not restart it");
    await operatorSend(root.path, "manager", "ping after restart");
    await waitForOperatorMail(root.path, "manager", "pong: ping after restart");
    console.log(
      `restart: c0re answered and an operator ping was answered ${Math.round(performance.now() - t)} ms ` +
        "after the sends",
    );
  });

  it("the broker's file holds every acknowledged send exactly once", async () => {
    assert.ok(hive && load);
    const exits = await hive.stop();
    assert.deepEqual(exits.broker, { code: 0, signal: null });
    const rows = readMessages(hive.brokerDb).filter((m) => m.sender === "load");
    assert.equal(rows.length, SENDS, "one row per send");
    const byClientId = new Map(rows.map((r) => [r.client_id, r]));
    assert.equal(byClientId.size, SENDS, "no client id stored twice");
    for (const ack of load.acks.values()) {
      const row = byClientId.get(ack.clientId);
      assert.ok(row, `${ack.clientId} is stored`);
      assert.equal(row.id, ack.id, `${ack.clientId} stored under the id it was acknowledged with`);
      assert.equal(row.body, loadBody(ack.clientId));
    }
  });
});
