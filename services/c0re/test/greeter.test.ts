import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  decodeJson,
  InboxAnnouncement,
  type ServiceProcess,
  startService,
  subjects,
} from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  TestClock,
  tempDir,
  waitUntil,
  withTimeout,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { Greeter } from "../src/greeter.js";

const BROKER = join(dirname(fileURLToPath(import.meta.url)), "../../broker/dist/src/main.js");

// Not a skip: a run without the built broker is a broken run, said in one line.
if (!existsSync(BROKER)) throw new Error(`${BROKER} is missing: run npm run build first`);

const LogLine = z.object({ msg: z.string(), attempt: z.number().optional() });

/**
 * Start notices while the broker is down, on a test clock: a real nats-server (so a failed send
 * is the real "no responders"), the real broker once it is time to deliver, and ten minutes of
 * backoff passed in well under a second.
 */
describe("greeter: start notices survive a broker that is down", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tmp: ReturnType<typeof tempDir>;
  let broker: ServiceProcess | undefined;

  beforeAll(async () => {
    server = await natsForTests();
    nc = await connect({ servers: server.url });
    tmp = tempDir("c0re-greeter-");
  });
  afterAll(async () => {
    await broker?.stop(5000);
    await nc?.close();
    await server?.stop();
    tmp?.remove();
  });

  /** A greeter on its own clock and stop signal, logging to a file the test reads. */
  function make(name: string) {
    const logPath = join(tmp.path, `${name}.log`);
    const fd = openSync(logPath, "w");
    const clock = new TestClock();
    const stop = new AbortController();
    const greeter = new Greeter({
      nc,
      log: createLogger("greeter-test", { level: "info", fd }),
      clock,
      signal: stop.signal,
    });
    const logLines = () =>
      readFileSync(logPath, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => LogLine.parse(JSON.parse(l)));
    /** Passes the pause before the next retry, once the failed try has scheduled it. */
    const nextRetry = async (): Promise<number> => {
      const ms = await waitUntil(() => clock.nextIn, { what: "the next retry scheduled" });
      await clock.advance(ms);
      return ms;
    };
    return { greeter, clock, stop, logLines, nextRetry, close: () => closeSync(fd) };
  }

  it("a stop ends the retries at once, and is no failure", async () => {
    const g = make("stop");
    g.greeter.greet("bob", 1, "c0re: hello");
    await g.nextRetry();
    await waitUntil(() => g.clock.nextIn, { what: "retrying" });
    g.stop.abort();
    await withTimeout(g.greeter.settled(), 2000, "settled after stop");
    assert.equal(g.clock.pending, 0);
    assert.ok(!g.logLines().some((l) => /could not send/.test(l.msg)), "a stop is not a failure");
    g.close();
  });

  it("keeps trying with backoff for as long as the broker is down, logs now and then, then delivers", async () => {
    const g = make("deliver");
    const mail: InboxAnnouncement[] = [];
    const sub = nc.subscribe(subjects.inbox("*"));
    void (async () => {
      for await (const m of sub) mail.push(InboxAnnouncement.parse(decodeJson(m.data)));
    })();
    await nc.flush();
    // Meanwhile carl is restarted twice: only the newer notice is news.
    const carl = make("replace");
    carl.greeter.greet("carl", 1, "first notice");
    await waitUntil(() => carl.clock.nextIn, { what: "carl's first notice retrying" });
    carl.greeter.greet("carl", 2, "second notice");
    await waitUntil(() => carl.clock.nextIn, { what: "carl's second notice retrying" });

    g.greeter.greet("alice", 1_700_000_000_000, "c0re: you were just started");
    const pauses: number[] = [];
    let waited = 0;
    // Ten minutes without a broker (the old greeting gave up after ~10 s).
    while (waited < 600_000) {
      const ms = await g.nextRetry();
      pauses.push(ms);
      waited += ms;
    }
    assert.deepEqual(pauses.slice(0, 8), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    const warned = g.logLines().filter((l) => /not delivered yet/.test(l.msg));
    // The first failure, then once a minute: about ten lines for ~26 failures.
    assert.ok(warned.length >= 9 && warned.length <= 12, `${warned.length} warnings`);
    assert.ok(warned.length < pauses.length / 2);
    assert.equal(warned[0]?.attempt, 1);

    broker = await startService({
      name: "broker",
      command: process.execPath,
      args: [BROKER],
      env: { ...process.env, NATS_URL: server.url, HIVE_ROOT: tmp.path, HIVE_LOG_LEVEL: "warn" },
      readyTimeoutMs: 30_000,
    });
    await g.nextRetry();
    await carl.clock.advance(60_000);
    await withTimeout(g.greeter.settled(), 5000, "alice's notice settled");
    await withTimeout(carl.greeter.settled(), 5000, "carl's notice settled");
    await waitUntil(() => mail.length >= 2, { what: "the notices in the inboxes" });
    await nc.flush();
    assert.deepEqual(mail.map((m) => [m.to, m.from, m.preview]).sort(), [
      ["alice", "system", "c0re: you were just started"],
      ["carl", "system", "second notice"],
    ]);
    assert.ok(g.logLines().some((l) => /delivered after retries/.test(l.msg)));
    assert.equal(g.clock.pending, 0);
    sub.unsubscribe();
    g.close();
    carl.close();
  });
});
