import assert from "node:assert/strict";
import {
  parseEvent,
  RecvBatchRequest,
  request,
  rpcs,
  type SendRequest,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { Bench } from "./bench.js";

const TURNS_TIMEOUT_MS = 120_000;
const QUEUED = (n: number) => `(+${n} more queued; consider draining before acting)`;
const BROADCAST_NOTE = "(this was a broadcast and may not need any action from you)";

/**
 * Conversations through the real broker, the real claude and its MCP server: broadcasts, replies,
 * the queue hint and recv_batch, as claude reads them (the model server's request log holds the
 * text claude was sent: wake prompts and tool results).
 */
describe("broadcast, replies and recv_batch with the real broker", () => {
  const bench = new Bench(["nina", "omar"]);
  /** The operator's broadcast of the first case: omar, stopped then, gets it when he starts. */
  let allHands = 0;
  /** The recv_batch requests seen on NATS: who asked, and what. */
  const batches: { agent: string; req: RecvBatchRequest }[] = [];

  beforeAll(async () => {
    await bench.start();
    const sub = bench.nc.subscribe(subjects.agentWildcard.recvBatch);
    void (async () => {
      for await (const m of sub) {
        const req = parseEvent(RecvBatchRequest, m);
        if (req) batches.push({ agent: subjectToken(m.subject, 2) ?? "", req });
      }
    })();
    await bench.nc.flush();
  });
  afterEach(() => bench.stopHarnesses());
  afterAll(() => bench.stop());

  const send = (as: "operator" | string, req: SendRequest) =>
    request(
      bench.nc,
      as === "operator" ? subjects.op.send : subjects.agent.send(as),
      rpcs.send,
      req,
    );

  it(
    "a queued inbox: the wake prompt says how much waits; claude drains it with recv_batch, broadcast and reply marked",
    async () => {
      // Three messages wait before nina's harness starts: one to her, a broadcast, a reply.
      const first = await send("operator", { to: "nina", body: "first of three" });
      const all = await send("operator", { to: "*", body: "all hands: deploy at noon" });
      allHands = all.id;
      const reply = await send("operator", {
        to: "nina",
        body: "and a follow-up",
        in_reply_to: first.id,
      });
      await bench.ctl.setScript([
        {
          match: "first of three",
          times: 1,
          reply: [
            { tool_use: { name: "mcp__hyperhive__recv_batch", input: { max: 10 } } },
            { text: "Drained." },
          ],
        },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      await bench.harness("nina");
      await waitUntil(
        () => [first.id, all.id, reply.id].every((id) => bench.obs.ackedIds("nina").includes(id)),
        { timeoutMs: 60_000, what: "all three acked" },
      );
      const log = await bench.ctl.requests();
      const wake = log.find((r) => r.kind === "reply" && r.rule === 0);
      assert.equal(
        wake?.text,
        `from: operator\n\nfirst of three\n\n(message #${first.id})\n${QUEUED(2)}`,
      );
      const drained = log.find((r) => r.kind === "continue");
      assert.equal(
        drained?.text,
        "2 messages:\n" +
          `--- 1/2\nfrom: operator\n\nall hands: deploy at noon\n\n(message #${all.id})\n` +
          `${BROADCAST_NOTE}\n` +
          `--- 2/2\nfrom: operator\n\nand a follow-up\n\n(message #${reply.id})\n` +
          `(in reply to #${first.id} from operator: "first of three")`,
      );
      assert.deepEqual(batches, [
        { agent: "nina", req: { max: 10, wait_seconds: 30, lease_seconds: 120 } },
      ]);
      // The batch was leased into the turn and acked with it: one turn for all three.
      assert.deepEqual(
        bench.obs.turnStarts("nina").map((s) => s.message.id),
        [first.id],
      );
      assert.equal(bench.obs.turnStarts("nina")[0]?.pending, 2);
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "claude broadcasts with send to '*'; the other agent's wake prompt marks it; a reply to it shows what it answers",
    async () => {
      await bench.ctl.setScript([
        {
          match: "announce the release",
          times: 1,
          reply: [
            {
              tool_use: {
                name: "mcp__hyperhive__send",
                input: { to: "*", body: "heads up: release 2.0 is out" },
              },
            },
            { text: "Announced." },
          ],
        },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      await bench.harness("omar");
      const go = await send("operator", { to: "omar", body: "announce the release" });
      await waitUntil(() => bench.obs.ackedIds("omar").includes(go.id), {
        timeoutMs: 60_000,
        what: "omar's turn",
      });
      // The first case's broadcast waited for omar, stopped when it was sent: his first turn.
      assert.ok(allHands > 0, "the first case ran");
      assert.deepEqual(
        bench.obs.turnStarts("omar").map((t) => t.message.id),
        [allHands, go.id],
      );
      const log = await bench.ctl.requests();
      assert.equal(
        log.find((r) => r.kind === "reply")?.text,
        `from: operator\n\nall hands: deploy at noon\n\n(message #${allHands})\n${BROADCAST_NOTE}`,
      );
      const said = log.find((r) => r.kind === "continue")?.text ?? "";
      const m = /^broadcast to every other agent \(message (\d+)\)$/.exec(said);
      assert.ok(m, said);
      const broadcastId = Number(m[1]);

      // nina answers it, naming it: the id claude read in its wake prompt.
      await bench.ctl.setScript([
        {
          match: "heads up: release 2.0",
          times: 1,
          reply: [
            {
              tool_use: {
                name: "mcp__hyperhive__send",
                input: { to: "omar", body: "congrats!", in_reply_to: broadcastId },
              },
            },
            { text: "Replied." },
          ],
        },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      await bench.harness("nina");
      await waitUntil(() => bench.obs.ackedIds("nina").includes(broadcastId), {
        timeoutMs: 60_000,
        what: "nina's turn on the broadcast",
      });
      const thanks = await waitUntil(
        () => bench.obs.turnStarts("omar").find((s) => s.message.body === "congrats!"),
        { timeoutMs: 60_000, what: "omar's turn on the reply" },
      );
      await waitUntil(() => bench.obs.ackedIds("omar").includes(thanks.message.id), {
        timeoutMs: 60_000,
        what: "omar's second turn",
      });
      const texts = (await bench.ctl.requests())
        .filter((r) => r.kind === "reply")
        .map((r) => r.text);
      // nina's harness of the first case was stopped while idle: its stop released the recv it
      // had parked at the broker, so the broadcast waited for her next start, a first delivery.
      assert.equal(bench.obs.turnsOn("nina", broadcastId)[0]?.message.redelivered, false);
      assert.deepEqual(texts, [
        `from: omar\n\nheads up: release 2.0 is out\n\n(message #${broadcastId})\n${BROADCAST_NOTE}`,
        `from: nina\n\ncongrats!\n\n(message #${thanks.message.id})\n` +
          `(in reply to #${broadcastId} from omar: "heads up: release 2.0 is out")`,
      ]);
      // The sender does not get its own broadcast.
      assert.ok(!bench.obs.turnStarts("omar").some((s) => s.message.id === broadcastId));
    },
    TURNS_TIMEOUT_MS,
  );
});
