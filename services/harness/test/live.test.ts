import assert from "node:assert/strict";
import { LiveEvent } from "@hyperhive/shared";
import { TestClock } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { LiveStream } from "../src/live.js";

describe("live stream", () => {
  it("numbers each turn's events from 0 under the turn's id, stamped by the clock", async () => {
    const clock = new TestClock(1_000);
    const published: LiveEvent[] = [];
    const live = new LiveStream({
      agent: "alice",
      clock,
      publish: (ev) => published.push(LiveEvent.parse(ev)),
    });
    const first = live.turn(clock.now());
    first.turnStart({
      message: { id: 7, from: "operator", body: "hi", redelivered: false },
      pending: 0,
      model: "haiku",
    });
    await clock.advance(5);
    first.stream({ type: "system", subtype: "init" });
    first.note("a stderr line");
    first.turnEnd({ ok: true, result: "ok" });
    const second = live.turn(clock.now());
    second.turnEnd({ ok: false, result: "crashed", note: "harness stopping" });

    assert.deepEqual(
      published.map((e) => [e.kind, e.turn_id, e.seq, e.at]),
      [
        ["turn_start", "alice-1000-1", 0, 1000],
        ["stream", "alice-1000-1", 1, 1005],
        ["note", "alice-1000-1", 2, 1005],
        ["turn_end", "alice-1000-1", 3, 1005],
        ["turn_end", "alice-1005-2", 0, 1005],
      ],
    );
    assert.ok(published.every((e) => e.agent === "alice"));
  });
});
