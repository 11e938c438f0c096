import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { LineBuffer } from "../src/lines.js";

describe("LineBuffer", () => {
  it("emits complete lines across chunk boundaries and holds the unfinished tail", () => {
    const got: string[] = [];
    const lb = new LineBuffer((l) => got.push(l));
    lb.push('{"a":');
    assert.deepEqual(got, []);
    assert.equal(lb.pendingBytes, 5);
    lb.push("1}\nsecond\n\nthi");
    assert.deepEqual(got, ['{"a":1}', "second", ""]);
    assert.equal(lb.pendingBytes, 3);
    lb.push("rd€\n");
    assert.deepEqual(got, ['{"a":1}', "second", "", "third€"]);
    assert.equal(lb.pendingBytes, 0);
  });

  it("counts pending bytes as UTF-8 and forgets the tail on clear", () => {
    const got: string[] = [];
    const lb = new LineBuffer((l) => got.push(l));
    lb.push("€€");
    assert.equal(lb.pendingBytes, 6);
    lb.clear();
    lb.push("x\n");
    assert.deepEqual(got, ["x"]);
  });
});
