import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REMINDER, request, rpcs, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { Bench, toolCall } from "./bench.js";
import { type Proc, REPO, startNode } from "./procs.js";

const SCHEDULER_MAIN = join(REPO, "services/scheduler/dist/src/main.js");
const TURN_TIMEOUT_MS = 90_000;

/**
 * End to end on real time: the real claude calls `remind` through the real MCP server, the harness
 * bridges it to the real scheduler, which delivers it through the real broker when it is due, and
 * the agent's next turn is woken by it.
 */
describe("a reminder claude sets wakes its agent (the real scheduler and broker)", () => {
  const bench = new Bench(["alice"]);
  let scheduler: Proc | undefined;

  beforeAll(async () => {
    assert.ok(existsSync(SCHEDULER_MAIN), `${SCHEDULER_MAIN} is missing: build services/scheduler`);
    await bench.start();
    scheduler = await startNode(SCHEDULER_MAIN, [], {
      env: { NATS_URL: bench.natsUrl, HIVE_SCHEDULER_DB: join(bench.root, "scheduler.sqlite") },
    });
  });
  afterAll(async () => {
    await bench.stopHarnesses();
    await scheduler?.stop();
    await bench.stop();
  });

  it(
    "remind(in_seconds: 2), then the next turn's wake prompt is the message from `reminder` quoting its id and text",
    async () => {
      await bench.ctl.setScript([
        {
          match: "remind me",
          reply: [
            ...toolCall("remind", { body: "look at the build", in_seconds: 2 }),
            { text: "done" },
          ],
        },
        { match: "from: reminder", reply: [{ text: "looked at it" }] },
      ]);
      await bench.harness("alice");
      const first = await bench.toolTurn("alice", "remind me");
      const set = /^reminder #(\d+) set: "look at the build" — due at (\S+Z) \(in [12] s\)\. /.exec(
        first.results[0] ?? "",
      );
      assert.ok(set, first.results.join("\n---\n"));
      const [, rid, due] = set;

      await waitUntil(
        () => bench.obs.turnStarts("alice").some((t) => t.message.from === REMINDER),
        {
          timeoutMs: 30_000,
          what: "a turn woken by the reminder",
        },
      );
      const woke = bench.obs.turnStarts("alice").find((t) => t.message.from === REMINDER);
      assert.ok(woke);
      const m = woke.message;
      await waitUntil(() => bench.obs.ackedIds("alice").includes(m.id), {
        timeoutMs: 60_000,
        what: "the reminder's turn acked",
      });
      assert.match(m.body, new RegExp(`^reminder #${rid}: look at the build`));
      // Stored by the broker not before it was due (the time read back is cut to the second).
      const { messages } = await request(bench.nc, subjects.op.history, rpcs.opHistory, {
        agent: "alice",
      });
      const stored = messages.filter((x) => x.from === REMINDER);
      assert.deepEqual(
        stored.map((x) => x.id),
        [m.id],
        "one message from reminder",
      );
      const sentAt = stored[0]?.sent_at ?? 0;
      assert.ok(sentAt >= Date.parse(due ?? ""), `sent ${sentAt}, due ${due}`);
      // The wake prompt of that turn, as claude sent it to the model.
      const prompts = (await bench.ctl.requests()).filter(
        (r) => r.kind === "reply" && r.text.startsWith(`from: ${REMINDER}`),
      );
      assert.deepEqual(
        prompts.map((r) => r.text),
        [`from: reminder\n\n${m.body}\n\n(message #${m.id})`],
      );
      assert.equal(bench.obs.turnsOn("alice", m.id).length, 1, "one turn on it");
    },
    TURN_TIMEOUT_MS,
  );
});
