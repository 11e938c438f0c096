import assert from "node:assert/strict";
import {
  connectNats,
  ErrorCode,
  HiveError,
  type NatsConnection,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ask, unheard } from "../src/client.js";
import { StandIns } from "./standins.js";

/**
 * How the CLI tries a request again (real nats-server): an action only when nobody took it, so
 * it is never done twice; a read after any transient failure.
 */
describe("asking the hive again", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await natsForTests();
    nc = await connectNats({ url: nats.url, name: "test-cli-client" });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  /** A subscriber that takes every request on `subject` and never answers. */
  async function silent(subject: string) {
    const other = await connectNats({ url: nats.url, name: "test-silent" });
    let taken = 0;
    const sub = other.subscribe(subject);
    void (async () => {
      for await (const _ of sub) taken++;
    })();
    await other.flush();
    return { taken: () => taken, close: () => other.close() };
  }

  it("an action nobody took is tried again until someone does, and done once", async () => {
    const before = nc.stats().outMsgs;
    const asked = ask(nc, subjects.op.approve, rpcs.opApprove, { id: 1 }, { retryOn: "unheard" });
    // Two tries have gone out (so the first found nobody) before c0re's stand-in is there.
    await waitUntil(() => nc.stats().outMsgs >= before + 2, { what: "a second try" });
    const stand = await StandIns.connect(nats.url);
    stand.on(subjects.op.approve, rpcs.opApprove, () => {
      throw new HiveError(ErrorCode.Conflict, "approval #1 is already approved");
    });
    await stand.flush();
    try {
      await assert.rejects(asked, (e: unknown) => HiveError.is(e, ErrorCode.Conflict));
      assert.equal(stand.calls.length, 1, "taken once; its conflict is not tried again");
      assert.ok(nc.stats().outMsgs >= before + 3);
    } finally {
      await stand.close();
    }
  });

  it("an action that was taken but not answered in time is not sent again", async () => {
    const taker = await silent(subjects.op.restartAll);
    try {
      const err = await ask(
        nc,
        subjects.op.restartAll,
        rpcs.opRestartAll,
        {},
        {
          retryOn: "unheard",
          timeoutMs: 200,
        },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(HiveError.is(err, ErrorCode.Timeout), String(err));
      assert.equal(unheard(err), false);
      assert.equal(taker.taken(), 1);
    } finally {
      await taker.close();
    }
  });

  it("a read is tried again after a timeout too, up to its six tries", async () => {
    const taker = await silent(subjects.op.agents);
    try {
      const err = await ask(nc, subjects.op.agents, rpcs.opAgents, {}, { timeoutMs: 100 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(HiveError.is(err, ErrorCode.Timeout), String(err));
      assert.equal(taker.taken(), 6);
    } finally {
      await taker.close();
    }
  }, 20_000);

  it("no responders is told apart from the other ways of being unavailable", async () => {
    const err = await ask(nc, "hive.op.nobody", rpcs.opAgents, {}, { retryOn: "never" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(unheard(err), String(err));
    assert.equal(unheard(new HiveError(ErrorCode.Unavailable, "connection closed")), false);
    assert.equal(unheard(new Error("no responders")), false);
  });
});
