import assert from "node:assert/strict";
import { bodyBytes, MAX_BODY_BYTES, type Question } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { askedMessage, outcomeMessage, withdrawnMessage } from "../src/question-messages.js";

const base: Question = {
  id: 7,
  asker: "alice",
  target: "bob",
  question: "Ship it?",
  options: [],
  multi: false,
  created_at: 0,
  expires_at: null,
  state: "open",
  answer: null,
  answered_at: null,
  answered_by: null,
};

describe("the messages a question makes", () => {
  it("asks, tells the outcome and withdraws, quoting the question", () => {
    assert.equal(
      askedMessage({ ...base, options: ["yes", "no"], multi: true, expires_at: 86_400_000 }),
      [
        'question #7 from alice: "Ship it?"',
        'options (several may be chosen): "yes", "no"',
        'answer it with answer(7, "<your answer>")',
        "it expires at 1970-01-02T00:00:00.000Z unless answered",
      ].join("\n"),
    );
    assert.equal(
      askedMessage(base),
      'question #7 from alice: "Ship it?"\nanswer it with answer(7, "<your answer>")',
    );
    const answered = { ...base, state: "answered", answer: "yes", answered_by: "bob" } as const;
    assert.equal(outcomeMessage(answered), 'question #7 to bob: "Ship it?"\nanswer: yes');
    const closed = (state: "expired" | "cancelled", by: string) =>
      withdrawnMessage({ ...base, state, answer: `[${state}]`, answered_by: by });
    assert.equal(
      closed("expired", "system"),
      'question #7 from alice: "Ship it?"\nclosed: [expired]; no answer is needed',
    );
    assert.equal(
      closed("cancelled", "alice"),
      'question #7 from alice: "Ship it?"\nclosed: [cancelled] by alice; no answer is needed',
    );
    assert.equal(
      closed("cancelled", "operator"),
      'question #7 from alice: "Ship it?"\nclosed: [cancelled] by the operator; no answer is needed',
    );
  });

  it("fits the broker's body cap with the longest question and answer, cut at a character, saying so", () => {
    const question = "語".repeat(2000); // 6000 bytes
    const answer = "🐝".repeat(2000); // 4000 characters of 2 units, 8000 bytes
    const q: Question = {
      ...base,
      question,
      options: Array.from({ length: 20 }, (_, i) => `${"option".repeat(33)}${i}`),
      state: "answered",
      answer,
      answered_by: "bob",
    };
    for (const body of [askedMessage(q), outcomeMessage(q), withdrawnMessage(q)]) {
      assert.ok(bodyBytes(body) <= MAX_BODY_BYTES, `${bodyBytes(body)} bytes`);
      assert.ok(body.startsWith("question #7 "));
      assert.ok(!body.includes("\uFFFD"), "no character split");
    }
    const outcome = outcomeMessage(q);
    assert.match(
      outcome,
      /^question #7 to bob: "語+…"\nanswer: 🐝+… \(cut; list_my_asks\(all: true\) has it whole\)$/u,
    );
    assert.ok(
      bodyBytes(outcome.split("\n")[0] ?? "") >= 400,
      "a good part of the question is kept",
    );
    assert.match(askedMessage(q), /… \(cut to fit\)\nanswer it with answer\(7, "<your answer>"\)$/);
  });
});
