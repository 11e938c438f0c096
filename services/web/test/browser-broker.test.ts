import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request, rpcs, serve, spawnService, subjects } from "@hyperhive/shared";
import { tempDir, withTimeout } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { api } from "../src/wire.js";
import { browserScope, receiptStates } from "./chromium.js";
import { call, TOKEN } from "./helpers.js";

/** The real broker, built by `npx tsc -b services/broker`. */
const BROKER = fileURLToPath(new URL("../../broker/dist/src/main.js", import.meta.url));
const AGENTS = ["alice", "bob", "carol"];

describe("the flow view over the real broker, in a real headless Chromium", () => {
  const t = browserScope(async (h) => {
    const dir = tempDir("hive-web-broker-");
    // c0re's part: who mail may go to (the broker asks at start).
    const roster = serve(h.nc, subjects.c0re.roster, rpcs.roster, () => ({
      agents: ["manager", ...AGENTS],
      at: Date.now(),
    }));
    await h.nc.flush();
    const broker = spawnService({
      command: process.execPath,
      args: [BROKER],
      name: "broker",
      env: {
        PATH: process.env.PATH ?? "",
        NATS_URL: h.server.url,
        BROKER_DB: join(dir.path, "broker.sqlite"),
        HIVE_LOG_LEVEL: "warn",
      },
      readyTimeoutMs: 15_000,
    });
    await withTimeout(broker.ready, 15_000, "the broker's ready line");
    return [
      roster,
      {
        async stop() {
          await broker.stop(5_000);
          dir.remove();
        },
      },
    ];
  });

  /** An agent's request to the broker, on its own subject (identity is the subject). */
  const recv = (agent: string) =>
    request(t.h.nc, subjects.agent.recv(agent), rpcs.recv, { wait_seconds: 2 });
  const ack = (agent: string, id: number) =>
    request(t.h.nc, subjects.agent.ack(agent), rpcs.ack, { id });
  const ackCount = (id: number, text: string) =>
    t.page.locator(`#flow li[data-id="${id}"] .ack-count`, { hasText: text }).waitFor();

  it("shows a real broadcast once, its receipts moving from queued to acked, redelivery included", async () => {
    await t.page.goto(`${t.url}/flow?token=${TOKEN}`);
    await t.page.locator("#flow > li.empty", { hasText: "no messages" }).waitFor();

    // The operator broadcasts through the web's API, as the send form does.
    const sent = await call(t.h.app, "POST", api.send.path, {
      body: { to: "*", body: "release freeze from now" },
    });
    assert.equal(sent.status, 200);
    const id = api.send.reply.parse(sent.json()).id;
    const b = t.page.locator(`#flow li[data-id="${id}"]`);
    await b.waitFor();
    assert.equal(await b.locator(".to").textContent(), "everyone (*)");
    await ackCount(id, "acked by 0 of 4");
    await b.locator("details.receipts > summary").click();
    assert.deepEqual(
      await receiptStates(b),
      [
        ["alice", "queued"],
        ["bob", "queued"],
        ["carol", "queued"],
        ["manager", "queued"],
      ],
      "one receipt per agent on the roster (the operator sent it)",
    );

    const leased = await recv("alice");
    assert.equal(leased.message?.id, id);
    await b.locator('.receipt[data-recipient="alice"][data-state="leased"]').waitFor();
    await ack("alice", id);
    await ackCount(id, "acked by 1 of 4");
    await recv("bob");
    await ack("bob", id);
    await ackCount(id, "acked by 2 of 4");

    // carol's harness dies mid-turn; its successor releases the lease and gets it again.
    await recv("carol");
    const released = await request(t.h.nc, subjects.agent.release("carol"), rpcs.release, {});
    assert.deepEqual(released.released, [id]);
    await b.locator('.receipt[data-recipient="carol"][data-state="queued"]').waitFor();
    const again = await recv("carol");
    assert.equal(again.message?.redelivered, true);
    const carol = b.locator('.receipt[data-recipient="carol"][data-deliveries="2"]');
    await carol.waitFor();
    assert.equal(await carol.locator(".redelivered").textContent(), "redelivered ×2");
    await ack("carol", id);
    await recv("manager");
    await ack("manager", id);
    await ackCount(id, "acked by 4 of 4");
    assert.equal(await t.page.locator(`#flow li[data-id="${id}"]`).count(), 1, "shown once");

    // alice answers the broadcast: her reply nests under it, live.
    const reply = await request(t.h.nc, subjects.agent.send("alice"), rpcs.send, {
      to: "operator",
      body: "frozen; the parser waits",
      in_reply_to: id,
    });
    const nested = t.page.locator(
      `#flow li[data-id="${id}"] > details.thread li[data-id="${reply.id}"]`,
    );
    await nested.waitFor();
    assert.equal(await nested.locator(".body").textContent(), "frozen; the parser waits");
    assert.equal(await nested.locator(".receipt .badge").textContent(), "in the inbox");

    // A reload starts from the broker's history: the same picture.
    await t.page.reload();
    await ackCount(id, "acked by 4 of 4");
    await t.page
      .locator(`#flow li[data-id="${id}"] > details.thread li[data-id="${reply.id}"]`)
      .waitFor();
    await t.page.screenshot({ path: "/tmp/hive-flow-broker.png", fullPage: true });
  });
});
