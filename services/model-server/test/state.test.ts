/** The small stateful parts on their own: the hold gate and the request log. */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { HoldGate, MAX_LOG_ENTRIES, otherEntry, RequestLog } from "../src/mod.js";

describe("HoldGate", () => {
  it("frees every waiter on release, and counts only those still waiting", async () => {
    const gate = new HoldGate();
    const a = gate.wait(new AbortController().signal);
    const b = gate.wait(new AbortController().signal);
    assert.equal(gate.size, 2);
    assert.equal(gate.release(), 2);
    assert.deepEqual(await Promise.all([a, b]), [true, true]);
    assert.equal(gate.size, 0);
    assert.equal(gate.release(), 0);
  });

  it("lets a waiter go when its signal aborts, before or while it waits", async () => {
    const gate = new HoldGate();
    const ac = new AbortController();
    const waiting = gate.wait(ac.signal);
    ac.abort();
    assert.equal(await waiting, false);
    assert.equal(await gate.wait(ac.signal), false);
    assert.equal(gate.size, 0);
  });
});

describe("RequestLog", () => {
  const entry = (path: string) =>
    otherEntry({ time: "2030-01-01T00:00:00.000Z", method: "POST", path });

  it("keeps the newest MAX_LOG_ENTRIES entries and hands out copies", () => {
    const log = new RequestLog();
    for (let i = 0; i <= MAX_LOG_ENTRIES; i++) log.add(entry(`/${i}`));
    const list = log.list();
    assert.equal(list.length, MAX_LOG_ENTRIES);
    assert.equal(list[0]!.path, "/1");
    list[0]!.tool_uses.push({ name: "x", input: {} });
    assert.deepEqual(log.list()[0]!.tool_uses, []);
    log.clear();
    assert.deepEqual(log.list(), []);
  });
});
