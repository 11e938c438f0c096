import assert from "node:assert/strict";
import { request, rpcs, subjects } from "@hyperhive/shared";
import type { TestClock } from "@hyperhive/shared/testing";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import type { TurnLoop } from "../src/turn-loop.js";
import { sendWake } from "../src/wake.js";
import { Bench } from "./bench.js";
import { rules } from "./procs.js";

/** A case that runs several real claude turns in a row gets this long. */
const TURNS_TIMEOUT_MS = 120_000;

/** A turn loop in this process, on a test clock, with the harness's real parts around it. */
interface LoopUnderTest {
  loop: TurnLoop;
  clock: TestClock;
  socketPath: string;
}

/**
 * The turn loop in-process on a {@link TestClock}: its back-offs are the defaults the environment
 * gives (30 s for a login, 5 s for a failed turn, 0.5 s for recv), and the test moves the clock
 * instead of waiting them out. Everything else is real: NATS, the broker process, the claude
 * CLI against the model server, and claude's MCP server talking to the loop over its socket.
 */
describe("turn loop back-offs, on a test clock", () => {
  // Not watching recv: the recv case needs nobody at all to serve it while the broker is away.
  const bench = new Bench(["carol", "gina", "rita"]);

  beforeAll(() => bench.start());
  afterEach(() => bench.stopHarnesses());
  afterAll(() => bench.stop());

  /** Boots a harness for `agent` the way `serve` does, with the loop on a test clock. */
  async function startLoop(agent: string): Promise<LoopUnderTest> {
    const h = await bench.harness(agent);
    return { loop: h.loop, clock: h.clock, socketPath: h.cfg.socketPath };
  }

  const opSend = (to: string, body: string) => bench.opSend(to, body);

  /** Model API calls since the last `clearRequests`. */
  async function apiCalls(): Promise<number> {
    return (await bench.ctl.requests()).filter((r) => r.path.startsWith("/v1/messages")).length;
  }

  it(
    "not logged in: the message stays leased; tried again after 30 s, then 60 s; a wake cuts the wait short",
    async () => {
      const agent = "carol";
      await bench.ctl.setScript([rules.notLoggedIn]);
      await bench.ctl.clearRequests();
      const { loop, clock, socketPath } = await startLoop(agent);
      const id = await opSend(agent, "are you there?");
      await waitUntil(() => bench.obs.turnEnds(agent).length === 1, {
        timeoutMs: 30_000,
        what: "the first turn",
      });
      assert.equal(bench.obs.turnEnds(agent)[0]?.result, "needs_login");
      assert.equal(loop.currentState, "needs-login");
      const note = bench.obs.states.find(
        (s) => s.agent === agent && s.state === "needs-login",
      )?.note;
      assert.match(note ?? "", /api key|log/i);

      // The first try again is 30 s away (HIVE_LOGIN_RETRY_SECONDS' default), not sooner.
      await waitUntil(() => clock.nextIn === 30_000, { what: "the login back-off" });
      await clock.advance(29_999);
      assert.equal(loop.currentState, "needs-login", "not tried again yet");
      assert.equal(bench.obs.turnsOn(agent, id).length, 1);
      await clock.advance(1);
      await waitUntil(() => bench.obs.turnEnds(agent).length === 2, {
        timeoutMs: 30_000,
        what: "the second try",
      });
      assert.equal(bench.obs.turnsOn(agent, id).length, 2);

      // Doubled: nothing for 60 s. Meanwhile the lease is extended every 40 s (a third of the
      // 120 s lease), on the same clock, and nothing is acked.
      const extended = bench.obs.extendsOf(agent, id);
      await clock.advance(59_999);
      assert.equal(loop.currentState, "needs-login", "not tried again yet");
      assert.equal(bench.obs.turnsOn(agent, id).length, 2);
      await waitUntil(() => bench.obs.extendsOf(agent, id) >= extended + 2, {
        what: "lease extensions at 40 s and 80 s",
      });
      assert.equal(await apiCalls(), 2, "one API call per try, no crash loop");
      assert.deepEqual(bench.obs.ackedIds(agent), []);
      assert.equal(loop.currentState, "needs-login");

      // The operator logs in (here: the API accepts again) and something wakes the agent: the
      // held message is tried at once, without the clock moving.
      await bench.ctl.setScript([{ match: "", reply: [{ text: "Back online." }] }]);
      const woke = await sendWake(socketPath, { from: "login", body: "credentials are in place" });
      await waitUntil(() => bench.obs.ackedIds(agent).includes(id), {
        timeoutMs: 30_000,
        what: "ack of the held message after login",
      });
      assert.equal(bench.obs.turnsOn(agent, id).length, 3);
      // Then the wake itself gets a turn, shown with its label.
      const wakeTurn = await waitUntil(() => bench.obs.turnsOn(agent, woke.id)[0], {
        timeoutMs: 30_000,
        what: "the wake's turn",
      });
      assert.equal(wakeTurn.message.from, "login");
      assert.equal(wakeTurn.message.body, "credentials are in place");
      await waitUntil(() => bench.obs.ackedIds(agent).includes(woke.id), { timeoutMs: 30_000 });
      await waitUntil(() => loop.currentState === "idle", { what: "idle again" });
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "a failed turn is tried again after 5 s, then 10 s; after the third it is acked and the operator told",
    async () => {
      const agent = "gina";
      const overloaded = { status: 500, type: "api_error", message: "overloaded" };
      await bench.ctl.setScript([
        { match: "", times: 1, error: overloaded },
        { match: "", reply: [{ text: "Done on the second try." }] },
      ]);
      await bench.ctl.clearRequests();
      const { clock } = await startLoop(agent);

      // Fails once, works on the second try: acked then, and no notice.
      const id = await opSend(agent, "do the thing");
      await waitUntil(() => bench.obs.turnEnds(agent).length === 1, { timeoutMs: 30_000 });
      await waitUntil(() => clock.nextIn === 5_000, { what: "the failed-turn back-off" });
      await clock.advance(4_999);
      assert.equal(clock.nextIn, 1, "the retry is still 1 ms away");
      assert.equal(bench.obs.turnsOn(agent, id).length, 1);
      await clock.advance(1);
      await waitUntil(() => bench.obs.ackedIds(agent).includes(id), {
        timeoutMs: 30_000,
        what: "ack after the retried turn",
      });
      assert.deepEqual(
        bench.obs.turnEnds(agent).map((e) => e.ok),
        [false, true],
      );
      const prompts = (await bench.ctl.requests()).map((r) => r.text);
      assert.ok(prompts.some((x) => /retry 2: the previous turn on this message failed/.test(x)));

      // Every try fails: 5 s, then 10 s, then the third failure is the last (HIVE_TURN_ATTEMPTS).
      await bench.ctl.setScript([
        { match: "", error: { ...overloaded, message: "still overloaded" } },
      ]);
      const doomed = await opSend(agent, "this will not work");
      const failed = (n: number) =>
        waitUntil(() => bench.obs.turnEnds(agent).filter((e) => !e.ok).length === n, {
          timeoutMs: 30_000,
          what: `failed turn ${n}`,
        });
      await failed(2);
      await waitUntil(() => clock.nextIn === 5_000, { what: "the first back-off" });
      await clock.advance(5_000);
      await failed(3);
      await waitUntil(() => clock.nextIn === 10_000, { what: "the back-off, doubled" });
      await clock.advance(9_999);
      assert.equal(clock.nextIn, 1, "the retry is still 1 ms away");
      assert.equal(bench.obs.turnsOn(agent, doomed).length, 2);
      assert.equal(bench.obs.ackedIds(agent).includes(doomed), false);
      await clock.advance(1);
      await waitUntil(() => bench.obs.ackedIds(agent).includes(doomed), {
        timeoutMs: 30_000,
        what: "ack after the last failed try",
      });
      assert.equal(bench.obs.turnsOn(agent, doomed).length, 3);
      const inbox = await request(bench.nc, subjects.op.inbox, rpcs.opInbox, {});
      const notices = inbox.messages.filter((m) => m.from === agent);
      assert.equal(notices.length, 1, "one notice, for the dropped message only");
      assert.match(
        notices[0]!.body,
        new RegExp(
          `gave up on message #${doomed} from operator after 3 failed turns. Last error: .*still overloaded`,
        ),
      );
    },
    TURNS_TIMEOUT_MS,
  );

  it("recv fails while the broker is away: tried again after 0.5 s, 1 s, 2 s; back to work when it returns", async () => {
    const agent = "rita";
    await bench.ctl.setScript([{ match: "", reply: [{ text: "Back." }] }]);
    const { loop, clock } = await startLoop(agent);
    // The broker stops: it answers the parked long-poll empty, and then nobody serves recv.
    await bench.broker.stop();
    await waitUntil(() => clock.nextIn === 500, { what: "the first recv back-off" });
    await clock.advance(500);
    await waitUntil(() => clock.nextIn === 1_000, { what: "doubled" });
    await clock.advance(1_000);
    await waitUntil(() => clock.nextIn === 2_000, { what: "doubled again" });
    assert.equal(loop.currentState, "idle");

    await bench.startBroker();
    await clock.advance(2_000);
    const id = await opSend(agent, "are you back?");
    await waitUntil(() => bench.obs.ackedIds(agent).includes(id), {
      timeoutMs: 30_000,
      what: "a turn after the broker came back",
    });

    // A recv that worked starts the back-off over: the next outage waits 0.5 s again.
    await bench.broker.stop();
    await waitUntil(() => clock.nextIn === 500, { what: "the back-off, from the start" });
    await bench.startBroker();
  });
});
