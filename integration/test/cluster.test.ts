import assert from "node:assert/strict";
import { AgentsListResponse } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { beforeAll, describe, inject, it } from "vitest";
import { readMessages } from "../src/broker-db.js";
import { Hive } from "../src/hive.js";
import { NatsCluster } from "../src/nats.js";
import { startNetwork } from "../src/network.js";
import { hiveCli, operatorSend, waitForOperatorMail, writeHiveRuntime } from "../src/operator.js";
import { integrationContext } from "./context.js";
import { fileHooks } from "./hooks.js";

const { natsImage, runLabel } = integrationContext(inject("integration"));
/** The connection names the services give NATS. */
const HARNESS = "harness:manager";

describe("a hive on a 3-node NATS cluster in containers", () => {
  const root = tempDir("hive-it-cluster-");
  let cluster: NatsCluster;
  let hive: Hive | undefined;
  /** Operator messages the broker acknowledged, by body. */
  const pings = new Map<string, number>();

  /** Whether the manager's harness acked every message sent to the manager. */
  const allAcked = (): boolean => {
    assert.ok(hive);
    return readMessages(hive.brokerDb).every(
      (m) => m.recipient !== "manager" || m.acked_at !== null,
    );
  };

  /**
   * Sends `body` to the manager as the operator and waits for the pong; then for the turn's end,
   * when the harness acks the message, so the next step begins with the manager idle.
   */
  const ping = async (body: string): Promise<number> => {
    const t = performance.now();
    pings.set(body, await operatorSend(root.path, "manager", body));
    await waitForOperatorMail(root.path, "manager", `pong: ${body}`);
    const ms = Math.round(performance.now() - t);
    await waitUntil(allAcked, { what: `${body} acked by the harness` });
    return ms;
  };

  beforeAll(async () => {
    const network = await startNetwork();
    cluster = await NatsCluster.start({
      image: natsImage,
      network,
      label: runLabel,
      names: ["n1", "n2", "n3"],
    });
    const n1 = cluster.node("n1");
    const n2 = cluster.node("n2");
    const n3 = cluster.node("n3");
    hive = await Hive.start({
      root: root.path,
      natsUrl: n1.url,
      // The harness's own node first; the others to fail over to, in order.
      agentNatsUrl: [n2, n1, n3].map((n) => n.url).join(","),
    });
    writeHiveRuntime(root.path, n3.url);
  }, 90_000);

  fileHooks({
    output: () => hive?.output() ?? "(no hive)",
    cleanup: [() => hive?.stop(), () => root.remove()],
  });

  it("broker and c0re are on node 1, the manager's harness on node 2", async () => {
    const n1 = cluster.node("n1");
    const names = await n1.clientNames();
    assert.ok(names.includes("broker") && names.includes("c0re"), `n1 has ${names.join(", ")}`);
    const harnessNode = await waitUntil(() => cluster.nodeOf(HARNESS), {
      what: "the manager's harness connected",
    });
    assert.equal(harnessNode.name, "n2");
  });

  it("an operator ping sent through node 3 is answered by the manager on node 2", async () => {
    const ms = await ping("ping 1");
    console.log(
      `cluster: ping 1 (CLI on n3 -> broker on n1 -> harness on n2) answered in ${ms} ms`,
    );
  });

  it("node 2 stops: the harness fails over to another node by itself and the next ping is answered", async () => {
    const n2 = cluster.node("n2");
    const survivors = cluster.nodes.filter((n) => n !== n2);
    const t = performance.now();
    await n2.stop();
    const stoppedMs = Math.round(performance.now() - t);
    const now = await waitUntil(() => cluster.nodeOf(HARNESS, survivors), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: "the manager's harness connected to a surviving node",
    });
    const reconnectMs = Math.round(performance.now() - t);
    // The same harness process, reconnected: c0re did not have to restart it.
    const agents = await hiveCli(root.path, ["agents", "--json"]);
    assert.equal(agents.code, 0, agents.stderr);
    const manager = AgentsListResponse.parse(JSON.parse(agents.stdout)).agents.find(
      (a) => a.name === "manager",
    );
    assert.equal(manager?.running, true);
    assert.equal(manager?.starts, 1);
    const ms = await ping("ping 2");
    console.log(
      `cluster: n2 stopped in ${stoppedMs} ms; the harness was on ${now.name} ${reconnectMs} ms ` +
        `after the stop began; ping 2 answered in ${ms} ms`,
    );
  });

  it("nothing acknowledged is lost: every operator message is stored, answered and acked", async () => {
    assert.ok(hive);
    const db = hive.brokerDb;
    assert.ok(allAcked(), "every message to the manager acked");
    const exits = await hive.stop();
    for (const [name, exit] of Object.entries(exits)) {
      assert.deepEqual(exit, { code: 0, signal: null }, `${name} stopped cleanly`);
    }
    const rows = readMessages(db);
    const pongs: string[] = [];
    for (const [body, id] of pings) {
      const row = rows.find((m) => m.id === id);
      assert.equal(row?.body, body);
      assert.equal(row?.recipient, "manager");
      assert.notEqual(row?.acked_at, null, `${body} acked`);
      const answers = rows.filter((m) => m.sender === "manager" && m.body === `pong: ${body}`);
      assert.ok(answers.length >= 1, `${body} answered`);
      pongs.push(`${body}: ${answers.length}`);
    }
    console.log(
      `cluster: ${pings.size} operator messages acknowledged, all stored and acked; pongs per ping: ${pongs.join(", ")}`,
    );
  });
});
