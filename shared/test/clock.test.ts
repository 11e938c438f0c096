import assert from "node:assert/strict";
import { describe, it } from "vitest";
import { every, sleep, systemClock } from "../src/clock.js";
import { mayRetry, RetryPolicy, retry, retryDelay, retryPolicy } from "../src/retry.js";
import { TestClock } from "../src/testing/clock.js";

describe("msUntil", () => {
  it("on the system clock, counts the fraction of the current millisecond (now() is whole ms)", () => {
    const lefts: number[] = [];
    const started = Date.now();
    // Readings over a few milliseconds of real time: some near a millisecond's start teach it.
    while (Date.now() - started < 5 || lefts.length < 200) {
      const whole = Date.now();
      const left = systemClock.msUntil(whole + 1000);
      const after = Date.now();
      // Never more than whole ms; less by the fraction, and by however long the call took (a
      // loaded machine may stop this process between the readings).
      assert.ok(left <= 1000 && left > 999 - (after - whole), `${left} (${after - whole} ms)`);
      if (after === whole) lefts.push(left);
    }
    assert.ok(
      lefts.some((l) => l < 999.9),
      "the fraction shows: some readings are well into their millisecond",
    );
  });

  it("on a test clock, is exactly the difference", () => {
    const clock = new TestClock(5_000);
    assert.equal(clock.msUntil(6_250), 1_250);
    assert.equal(clock.msUntil(4_000), -1_000);
  });
});

describe("TestClock", () => {
  it("runs due calls in time order when advanced, and nothing before", async () => {
    const clock = new TestClock(1_000);
    const ran: string[] = [];
    clock.schedule(300, () => ran.push(`b@${clock.now()}`));
    clock.schedule(100, () => ran.push(`a@${clock.now()}`));
    const cancel = clock.schedule(200, () => ran.push("cancelled"));
    cancel();
    cancel();
    assert.equal(clock.pending, 2);
    assert.equal(clock.nextIn, 100);
    await clock.advance(99);
    assert.deepEqual(ran, []);
    await clock.advance(250);
    assert.deepEqual(ran, ["a@1100", "b@1300"]);
    assert.equal(clock.now(), 1_349);
    assert.equal(clock.pending, 0);
  });

  it("runs calls scheduled by calls, if due within the advance", async () => {
    const clock = new TestClock(0);
    const ran: number[] = [];
    const chain = (): void => {
      ran.push(clock.now());
      if (ran.length < 5) clock.schedule(10, chain);
    };
    clock.schedule(10, chain);
    await clock.advance(35);
    assert.deepEqual(ran, [10, 20, 30]);
    await clock.advance(100);
    assert.deepEqual(ran, [10, 20, 30, 40, 50]);
  });

  it("sleep resolves after its time on the clock, or at once when aborted", async () => {
    const clock = new TestClock(0);
    let done = false;
    const s = sleep(clock, 1_000).then(() => {
      done = true;
    });
    await clock.advance(999);
    assert.equal(done, false);
    await clock.advance(1);
    await s;
    assert.equal(done, true);

    const ac = new AbortController();
    const aborted = sleep(clock, 60_000, ac.signal);
    ac.abort();
    await aborted;
    assert.equal(clock.pending, 0, "the aborted sleep left no timer");
    await sleep(clock, 5, ac.signal); // already aborted: resolves at once
  });

  it("every repeats until cancelled", async () => {
    const clock = new TestClock(0);
    const ticks: number[] = [];
    const stop = every(clock, 100, () => ticks.push(clock.now()));
    await clock.advance(350);
    stop();
    await clock.advance(1_000);
    assert.deepEqual(ticks, [100, 200, 300]);
    assert.equal(clock.pending, 0);
  });

  it("the system clock schedules real timers that can be cancelled", async () => {
    const fired = await new Promise<boolean>((resolve) => {
      const cancel = systemClock.schedule(5, () => resolve(false));
      cancel();
      systemClock.schedule(10, () => resolve(true));
    });
    assert.equal(fired, true);
  });
});

describe("RetryPolicy", () => {
  const policy = retryPolicy({ initialMs: 100, factor: 2, maxMs: 1_000, maxAttempts: 4 });

  it("grows the pause by the factor up to the cap", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelay(policy, n)),
      [100, 200, 400, 800, 1_000, 1_000],
    );
    assert.equal(mayRetry(policy, 3), true);
    assert.equal(mayRetry(policy, 4), false);
    assert.equal(mayRetry({ ...policy, maxAttempts: undefined }, 1e9), true);
  });

  it("is validated data: a bad policy is refused where it is defined", () => {
    assert.throws(() => retryPolicy({ initialMs: -1, factor: 2, maxMs: 10 }));
    assert.throws(() => retryPolicy({ initialMs: 1, factor: 0.5, maxMs: 10 }));
    assert.equal(RetryPolicy.safeParse({ ...policy, jitter: true }).success, false);
  });

  it("retry waits the policy's pauses on its clock and gives up after maxAttempts", async () => {
    const clock = new TestClock(0);
    const tries: number[] = [];
    const pauses: number[] = [];
    const run = retry(
      async (attempt) => {
        tries.push(clock.now());
        throw new Error(`fail ${attempt}`);
      },
      { policy, clock, onRetry: (_e, _n, ms) => pauses.push(ms) },
    );
    const outcome = run.catch((e: unknown) => e);
    await clock.advance(10_000);
    const err = await outcome;
    assert.ok(err instanceof Error && err.message === "fail 4");
    assert.deepEqual(tries, [0, 100, 300, 700]);
    assert.deepEqual(pauses, [100, 200, 400]);
  });

  it("retry stops at once on an error that is not retryable, or when aborted", async () => {
    const clock = new TestClock(0);
    let n = 0;
    await assert.rejects(
      retry(
        async () => {
          n++;
          throw new Error("fatal");
        },
        { policy, clock, retryable: () => false },
      ),
      /fatal/,
    );
    assert.equal(n, 1);
    const ac = new AbortController();
    const run = retry(
      async () => {
        throw new Error("again");
      },
      { policy, clock, signal: ac.signal },
    );
    ac.abort();
    await assert.rejects(run, /again/);
  });

  it("retry returns the first success", async () => {
    const clock = new TestClock(0);
    const run = retry(
      async (attempt) => {
        if (attempt < 3) throw new Error("not yet");
        return attempt;
      },
      { policy, clock },
    );
    await clock.advance(1_000);
    assert.equal(await run, 3);
  });
});
