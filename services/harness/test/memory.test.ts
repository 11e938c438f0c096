import assert from "node:assert/strict";
import { request, rpcs, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { Bench } from "./bench.js";
import { HARNESS_MAIN, harnessEnv, type Proc, startNode } from "./procs.js";

const TURNS_TIMEOUT_MS = 120_000;

/**
 * A crash must not make an agent answer twice unknowingly: `serve` as a process, its turn sends a
 * reply through the real claude, the container dies (SIGKILL of the process group) before the
 * turn's ack, and the message comes again to a new harness, whose wake prompt says what the
 * earlier attempt already sent.
 */
describe("what a dead turn sent is remembered", () => {
  const bench = new Bench(["mia"], { recv: true });
  const procs: Proc[] = [];

  beforeAll(() => bench.start());
  afterAll(async () => {
    for (const p of procs) await p.stop();
    await bench.stop();
  });

  async function serve(detached: boolean): Promise<Proc> {
    const env = harnessEnv({
      natsUrl: bench.natsUrl,
      root: bench.root,
      agent: "mia",
      prompts: bench.prompts,
      modelUrl: bench.ctl.url,
    });
    // A 10-minute lease: the message comes again because the new harness releases the dead
    // one's lease at start-up, not because the lease ran out.
    const p = await startNode(HARNESS_MAIN, ["serve"], {
      env: { ...env, HIVE_LEASE_SECONDS: "600" },
      detached,
    });
    procs.push(p);
    return p;
  }

  const replies = async (): Promise<{ id: number; body: string }[]> =>
    (await request(bench.nc, subjects.op.inbox, rpcs.opInbox, {})).messages
      .filter((m) => m.from === "mia")
      .map((m) => ({ id: m.id, body: m.body }));

  it(
    "killed after its send and before its ack: the redelivered turn's wake prompt lists the send, and claude need not send again",
    async () => {
      await bench.ctl.setScript([
        {
          // First attempt: reply, then park in a long recv, where the container dies.
          match: "remember me",
          times: 1,
          reply: [
            {
              tool_use: {
                name: "mcp__hyperhive__send",
                input: { to: "operator", body: "pong: remember me" },
              },
            },
            { tool_use: { name: "mcp__hyperhive__recv", input: { wait_seconds: 120 } } },
            { text: "never seen" },
          ],
        },
        { match: "already sent", reply: [{ text: "Already answered; not sending again." }] },
        { match: "", reply: [{ text: "unexpected" }] },
      ]);
      await bench.ctl.clearRequests();
      const first = await serve(true);
      await waitUntil(() => bench.obs.statesOf("mia").includes("idle"), { what: "idle" });
      const id = await bench.opSend("mia", "remember me");
      await waitUntil(
        () => bench.obs.recvs.some((r) => r.agent === "mia" && r.wait_seconds === 120),
        {
          timeoutMs: 60_000,
          what: "claude parked in recv after its send",
        },
      );
      const [sent, ...more] = await replies();
      assert.ok(sent, "the reply reached the operator");
      assert.deepEqual(more, []);
      assert.equal(sent.body, "pong: remember me");

      // The container dies: harness, claude and the MCP server together, before any ack.
      process.kill(-(first.child.pid ?? 0), "SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      assert.deepEqual(bench.obs.ackedIds("mia"), [], "nothing was acked");

      await serve(false);
      await waitUntil(() => bench.obs.ackedIds("mia").includes(id), {
        timeoutMs: 60_000,
        what: "the redelivered message's ack",
      });
      const again = bench.obs.turnsOn("mia", id);
      assert.equal(again.length, 2);
      assert.equal(again[1]?.message.redelivered, true);
      const prompts = (await bench.ctl.requests()).filter((r) => r.kind === "reply");
      assert.equal(prompts.length, 2, prompts.map((r) => r.text).join("\n---\n"));
      assert.equal(prompts[0]?.text, `from: operator\n\nremember me\n\n(message #${id})`);
      assert.equal(
        prompts[1]?.text,
        `from: operator\n\nremember me\n\n(message #${id})\n` +
          "(redelivered: a previous turn on this message did not finish)\n" +
          `(a previous attempt at this message already sent: #${sent.id} to operator: "pong: remember me")`,
      );
      assert.equal(prompts[1]?.rule, 1, "the scripted claude saw it and did not send again");
      assert.deepEqual(await replies(), [sent], "the operator got one reply");
    },
    TURNS_TIMEOUT_MS,
  );
});
