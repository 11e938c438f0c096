import assert from "node:assert/strict";
import { connectNats, type NatsConnection, ServiceEvent } from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  TestClock,
  waitUntil,
} from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { SETTLE_MS, ServiceEventPublisher, serviceEvent, terminalLine } from "../src/events.js";
import type { SupervisorEvent } from "../src/supervisor.js";
import { watchServiceEvents } from "./helpers.js";

describe("what the supervisor saw, as terminal lines and ServiceEvents", () => {
  const cases: [SupervisorEvent, string | undefined, Partial<ServiceEvent>][] = [
    [
      { kind: "started", service: "broker", starts: 1, pids: [10] },
      undefined,
      { event: "started" },
    ],
    [
      { kind: "started", service: "broker", starts: 2, pids: [11] },
      "hive: broker is back (pid 11)",
      { event: "started", starts: 2 },
    ],
    [
      { kind: "exited", service: "web", starts: 1, detail: "signal SIGKILL", ranMs: 12_345 },
      "hive: web exited on its own (signal SIGKILL) after 12 s",
      { event: "exited", detail: "signal SIGKILL" },
    ],
    [
      { kind: "restarting", service: "web", starts: 1, delayMs: 250, failures: 1 },
      "hive: restarting web in 250 ms (failure 1 in a row)",
      { event: "restarting", detail: "in 250 ms" },
    ],
    [
      { kind: "start_failed", service: "web", starts: 2, detail: "web exited (code 1)" },
      "hive: web did not come back: web exited (code 1)",
      { event: "exited", detail: "start failed: web exited (code 1)" },
    ],
    [
      { kind: "gave_up", service: "web", starts: 2, detail: "port 7777 is in use; use --port" },
      "hive: giving up on web: port 7777 is in use; use --port; stopping the hive",
      { event: "gave_up", detail: "port 7777 is in use; use --port" },
    ],
  ];
  it.each(cases)("%o", (e, line, ev) => {
    assert.equal(terminalLine(e), line);
    const out = ServiceEvent.parse(serviceEvent(e, 123));
    assert.equal(out.at, 123);
    assert.equal(out.service, e.service);
    assert.deepEqual({ ...out, ...ev }, out, "the expected fields");
  });
});

describe("ServiceEventPublisher (real nats-server)", () => {
  let server: NatsServerHandle;
  let sub: NatsConnection;
  let seen: ServiceEvent[];

  beforeAll(async () => {
    server = await natsForTests();
    const w = await watchServiceEvents(server.url);
    sub = w.nc;
    seen = w.events;
  });

  afterAll(async () => {
    await sub?.close();
    await server?.stop();
  });

  const ev = (service: string, starts = 1): ServiceEvent => ({
    service,
    event: "started",
    at: Date.now(),
    starts,
  });

  it("holds events until it has a connection, then publishes them in order; none after close", async () => {
    const warnings: string[] = [];
    const pub = new ServiceEventPublisher({
      clock: new TestClock(),
      warn: (l) => warnings.push(l),
    });
    pub.publish(ev("nats-server"));
    pub.publish(ev("model-server"));
    const nc = await connectNats({ url: server.url, name: "hive-up" });
    pub.attach(nc);
    pub.publish(ev("broker"));
    await nc.flush();
    await waitUntil(() => seen.length >= 3, { what: "three events" });
    assert.deepEqual(
      seen.splice(0).map((e) => e.service),
      ["nats-server", "model-server", "broker"],
    );
    await pub.close();
    assert.equal(nc.isClosed(), true);
    pub.publish(ev("web"));
    assert.deepEqual(warnings, []);
  });

  it("while held (NATS away) keeps events, and sends them SETTLE_MS after release", async () => {
    const clock = new TestClock();
    const warnings: string[] = [];
    const pub = new ServiceEventPublisher({ clock, warn: (l) => warnings.push(l) });
    const nc = await connectNats({ url: server.url, name: "hive-up" });
    pub.attach(nc);
    pub.hold();
    for (let i = 1; i <= 102; i++) pub.publish(ev("nats-server", i));
    pub.release();
    await clock.advance(SETTLE_MS - 1);
    await nc.flush();
    await sub.flush();
    assert.equal(seen.length, 0, "nothing before the settle time");
    await clock.advance(1);
    await nc.flush();
    await waitUntil(() => seen.length >= 100, { what: "the held events" });
    assert.deepEqual(
      seen.splice(0).map((e) => e.starts),
      Array.from({ length: 100 }, (_, i) => i + 3),
      "the newest 100, in order",
    );
    assert.deepEqual(warnings, [
      "hive: NATS is away; dropped the started event of nats-server",
      "hive: NATS is away; dropped the started event of nats-server",
    ]);
    await pub.close();
  });
});
