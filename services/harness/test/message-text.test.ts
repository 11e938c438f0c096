import assert from "node:assert/strict";
import type { InboxMessage, PreviousAction } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { wakeBody } from "../src/claude.js";
import { batchText, quote, recvText, showMessage, wakePrompt } from "../src/message-text.js";

/** A message as the broker hands it to `alice`. */
function inbox(over: Partial<InboxMessage> = {}): InboxMessage {
  return {
    id: 5,
    from: "operator",
    to: "alice",
    body: "hi",
    sent_at: 1_000,
    in_reply_to: null,
    reply_to: null,
    delivery: 1,
    redelivered: false,
    lease_until: 2_000,
    ...over,
  };
}

const shown = (over: Partial<InboxMessage> = {}, previous: PreviousAction[] = []) =>
  showMessage("alice", inbox(over), previous);

describe("wake prompt", () => {
  it("is from + body + the message's id, with queued and redelivery hints", () => {
    assert.equal(
      wakePrompt({ message: shown(), pending: 0 }),
      "from: operator\n\nhi\n\n(message #5)\n",
    );
    assert.equal(
      wakePrompt({
        message: shown({ id: 9, from: "bob", body: "x\ny", redelivered: true, delivery: 2 }),
        pending: 2,
      }),
      "from: bob\n\nx\ny\n\n(message #9)\n" +
        "(redelivered: a previous turn on this message did not finish)\n" +
        "(+2 more queued; consider draining before acting)\n",
    );
  });

  it("a retry says why: the previous turn failed, or the operator cancelled it", () => {
    const message = shown();
    assert.equal(
      wakePrompt({ message, pending: 0, retry: { attempt: 2, lastError: "overloaded" } }),
      "from: operator\n\nhi\n\n(message #5)\n" +
        "(retry 2: the previous turn on this message failed: overloaded)\n",
    );
    assert.equal(
      wakePrompt({
        message,
        pending: 0,
        retry: { attempt: 3, lastError: "x", cancelled: true },
      }),
      "from: operator\n\nhi\n\n(message #5)\n" +
        "(retry 3: the operator cancelled the previous turn on this message)\n",
    );
  });

  it("a broadcast says it may need no action", () => {
    const m = shown({ from: "bob", to: "*", body: "deploy at noon" });
    assert.equal(m.broadcast, true);
    assert.equal(
      wakePrompt({ message: m, pending: 0 }),
      "from: bob\n\ndeploy at noon\n\n(message #5)\n" +
        "(this was a broadcast and may not need any action from you)\n",
    );
    assert.equal(shown({ to: "alice" }).broadcast, false);
  });

  it("a reply says what it answers: id, sender and a quote; or just the id when that is gone", () => {
    const reply = shown({
      from: "bob",
      body: "yes",
      in_reply_to: 3,
      reply_to: { id: 3, from: "alice", quote: "shall we\ndeploy now?" },
    });
    assert.equal(
      wakePrompt({ message: reply, pending: 1 }),
      "from: bob\n\nyes\n\n(message #5)\n" +
        '(in reply to #3 from alice: "shall we deploy now?")\n' +
        "(+1 more queued; consider draining before acting)\n",
    );
    const gone = shown({ from: "bob", body: "yes", in_reply_to: 3 });
    assert.equal(
      wakePrompt({ message: gone, pending: 0 }),
      "from: bob\n\nyes\n\n(message #5)\n(in reply to #3)\n",
    );
  });

  it("a redelivery lists what earlier attempts already sent, asked and set, before the queue hint", () => {
    const previous: PreviousAction[] = [
      { kind: "sent", id: 11878, to: "operator", quote: "pong: hi" },
      { kind: "sent", id: 11879, to: "*", quote: "heads up" },
      { kind: "asked", id: 4, to: "operator", quote: "deploy now?" },
      { kind: "reminded", id: 7, due_at: Date.UTC(2026, 11, 5, 9), quote: "check the build" },
    ];
    const m = shown({ redelivered: true, delivery: 2 }, previous);
    assert.equal(
      wakePrompt({ message: m, pending: 3, retry: { attempt: 2, lastError: "crashed" } }),
      "from: operator\n\nhi\n\n(message #5)\n" +
        "(redelivered: a previous turn on this message did not finish)\n" +
        "(retry 2: the previous turn on this message failed: crashed)\n" +
        '(a previous attempt at this message already sent: #11878 to operator: "pong: hi"; ' +
        '#11879 to everyone (*): "heads up")\n' +
        '(a previous attempt at this message already asked: question #4 to operator: "deploy now?")\n' +
        "(a previous attempt at this message already set: reminder #7 due " +
        '2026-12-05T09:00:00.000Z: "check the build")\n' +
        "(+3 more queued; consider draining before acting)\n",
    );
  });

  it("a wake shows its label as the sender", () => {
    const m = shown({ from: "alice", body: wakeBody("cron: nightly", "tick") });
    assert.equal(m.from, "cron: nightly");
    assert.equal(
      wakePrompt({ message: m, pending: 0 }),
      "from: cron: nightly\n\ntick\n\n(message #5)\n",
    );
  });

  it("a due reminder is plain mail from `reminder`: the scheduler's text as it wrote it, nothing added", () => {
    const body =
      "reminder #12: look at the queue\n(repeats every 1h; next due 2026-12-05T10:00:00.000Z)";
    assert.equal(
      wakePrompt({ message: shown({ id: 40, from: "reminder", body }), pending: 0 }),
      `from: reminder\n\n${body}\n\n(message #40)\n`,
    );
  });
});

describe("recv and recv_batch texts", () => {
  it("recv reads like the wake prompt, or says the inbox was empty", () => {
    assert.equal(recvText({ message: null, pending: 0 }), "(no messages)");
    const m = shown({ from: "bob", to: "*", body: "ping" }, []);
    assert.equal(
      recvText({ message: m, pending: 1 }),
      "from: bob\n\nping\n\n(message #5)\n" +
        "(this was a broadcast and may not need any action from you)\n" +
        "(+1 more queued; consider draining before acting)",
    );
  });

  it("recv_batch numbers each message and ends with what is still queued", () => {
    assert.equal(batchText({ messages: [], pending: 0 }), "(no messages)");
    const a = shown({ id: 7, from: "bob", body: "one" });
    const b = shown(
      { id: 8, from: "carol", to: "*", body: "two", redelivered: true, delivery: 2 },
      [{ kind: "sent", id: 20, to: "carol", quote: "ok" }],
    );
    assert.equal(
      batchText({ messages: [a, b], pending: 4 }),
      "2 messages:\n" +
        "--- 1/2\nfrom: bob\n\none\n\n(message #7)\n" +
        "--- 2/2\nfrom: carol\n\ntwo\n\n(message #8)\n" +
        "(this was a broadcast and may not need any action from you)\n" +
        "(redelivered: a previous turn on this message did not finish)\n" +
        '(a previous attempt at this message already sent: #20 to carol: "ok")\n' +
        "---\n(+4 more queued; consider draining before acting)",
    );
    assert.equal(
      batchText({ messages: [a], pending: 0 }),
      "1 message:\n--- 1/1\nfrom: bob\n\none\n\n(message #7)",
    );
  });

  it("a quote is one line of at most 80 characters", () => {
    assert.equal(quote("  a\n\tb  "), "a b");
    const long = quote("x".repeat(200));
    assert.equal(long.length, 80);
    assert.ok(long.endsWith("…"));
    assert.equal(quote("y".repeat(80)), "y".repeat(80));
  });
});
