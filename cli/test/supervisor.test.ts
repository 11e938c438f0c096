import assert from "node:assert/strict";
import { type ExitInfo, retryPolicy } from "@hyperhive/shared";
import { TestClock } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { StartError } from "../src/child.js";
import {
  type Launch,
  type ServiceSpec,
  Supervisor,
  type SupervisorEvent,
} from "../src/supervisor.js";

/** A pretend service: each start is a run the test ends by hand. */
class FakeService implements ServiceSpec {
  readonly runs: { exit(e?: ExitInfo): void; stopped: boolean }[] = [];
  /** Errors the next starts throw, in order (then starts succeed). */
  readonly failNext: Error[] = [];
  /** When set, starts wait for it, then fail if the supervisor is stopping. */
  gate: Promise<void> | undefined;
  readonly order: string[];

  constructor(
    readonly name: string,
    order: string[] = [],
  ) {
    this.order = order;
  }

  async start(signal?: AbortSignal): Promise<Launch> {
    if (this.gate) {
      await this.gate;
      if (signal?.aborted) throw new StartError(`${this.name} stopped while starting`);
    }
    const err = this.failNext.shift();
    if (err) throw err;
    let exit: (e: ExitInfo) => void = () => {};
    const exited = new Promise<ExitInfo>((res) => {
      exit = res;
    });
    const run = {
      stopped: false,
      exit: (e: ExitInfo = { code: null, signal: "SIGKILL" }) => exit(e),
    };
    this.runs.push(run);
    return {
      pids: [1000 + this.runs.length],
      exited,
      stop: async () => {
        if (!run.stopped) this.order.push(`stop ${this.name}`);
        run.stopped = true;
        exit({ code: 0, signal: null });
      },
    };
  }

  /** Ends the current run as if killed. */
  kill(): void {
    this.runs.at(-1)?.exit();
  }
}

function rig() {
  const clock = new TestClock(0);
  const events: SupervisorEvent[] = [];
  const gaveUp: string[] = [];
  const sup = new Supervisor({
    clock,
    policy: retryPolicy({ initialMs: 100, factor: 2, maxMs: 1000, maxAttempts: 4 }),
    healthyAfterMs: 10_000,
    onEvent: (e) => events.push(e),
    onGiveUp: (service, why) => gaveUp.push(`${service}: ${why}`),
  });
  const kinds = () => events.map((e) => `${e.kind} ${e.service}`);
  return { clock, events, gaveUp, sup, kinds };
}

describe("Supervisor (on a test clock)", () => {
  it("restarts an exited service after the policy's backoff, growing with fast failures", async () => {
    const { clock, sup, events } = rig();
    const svc = new FakeService("broker");
    await sup.add(svc);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      svc.kill();
      await clock.advance(0);
      const s = sup.state("broker");
      assert.equal(s?.kind, "backoff");
      waits.push(clock.nextIn ?? -1);
      await clock.advance((clock.nextIn ?? 0) - 1);
      assert.equal(svc.runs.length, i + 1, "no start before the pause is over");
      await clock.advance(1);
      assert.equal(svc.runs.length, i + 2);
      assert.equal(sup.state("broker")?.kind, "running");
    }
    assert.deepEqual(waits, [100, 200, 400]);
    const restarting = events.filter((e) => e.kind === "restarting").map((e) => e.failures);
    assert.deepEqual(restarting, [1, 2, 3]);
    const started = events.filter((e) => e.kind === "started").map((e) => e.starts);
    assert.deepEqual(started, [1, 2, 3, 4]);
    await sup.stop();
  });

  it("a run that lasted long enough starts a new count of failures", async () => {
    const { clock, sup, gaveUp } = rig();
    const svc = new FakeService("web");
    await sup.add(svc);
    for (let i = 0; i < 10; i++) {
      await clock.advance(10_000);
      svc.kill();
      await clock.advance(0);
      assert.equal(clock.nextIn, 100, "each exit after a healthy run waits the first pause");
      await clock.advance(100);
    }
    assert.equal(svc.runs.length, 11);
    assert.deepEqual(gaveUp, []);
    await sup.stop();
  });

  it("gives up after maxAttempts fast failures in a row, and says why", async () => {
    const { clock, sup, gaveUp, kinds } = rig();
    const svc = new FakeService("nats-server");
    await sup.add(svc);
    for (let i = 0; i < 4; i++) {
      svc.kill();
      await clock.advance(1000);
    }
    assert.equal(sup.state("nats-server")?.kind, "gave_up");
    assert.equal(gaveUp.length, 1);
    assert.match(
      gaveUp[0]!,
      /^nats-server: 4 fast failures in a row, the last: exited \(signal SIGKILL\)$/,
    );
    assert.equal(svc.runs.length, 4, "no start after giving up");
    assert.equal(clock.pending, 0);
    assert.equal(kinds().at(-1), "gave_up nats-server");
    await sup.stop();
  });

  it("failed restarts count as fast failures; a permanent one gives up at once", async () => {
    const { clock, sup, gaveUp, events } = rig();
    const svc = new FakeService("web");
    await sup.add(svc);
    svc.failNext.push(new StartError("web exited (code 1)"));
    svc.kill();
    await clock.advance(100);
    const failed = events.find((e) => e.kind === "start_failed");
    assert.equal(failed?.kind === "start_failed" && failed.detail, "web exited (code 1)");
    assert.equal(clock.nextIn, 200, "second failure in a row: the second pause");
    svc.failNext.push(new StartError("port 7777 is in use; use --port", { permanent: true }));
    await clock.advance(200);
    assert.deepEqual(gaveUp, ["web: port 7777 is in use; use --port"]);
    assert.equal(clock.pending, 0);
    await sup.stop();
  });

  it("a first start that fails is not retried: add rejects", async () => {
    const { sup, clock } = rig();
    const svc = new FakeService("broker");
    svc.failNext.push(new StartError("broker exited (code 1)"));
    await assert.rejects(sup.add(svc), /broker exited/);
    assert.equal(clock.pending, 0);
    await sup.stop();
  });

  it("stop cancels a pending restart, stops newest first, and exits after it restart nothing", async () => {
    const { clock, sup, kinds } = rig();
    const order: string[] = [];
    const nats = new FakeService("nats-server", order);
    const broker = new FakeService("broker", order);
    const web = new FakeService("web", order);
    await sup.add(nats);
    await sup.add(broker);
    await sup.add(web);
    broker.kill();
    await clock.advance(0);
    assert.equal(sup.state("broker")?.kind, "backoff");
    order.length = 0;
    await sup.stop();
    assert.deepEqual(order, ["stop web", "stop nats-server"]);
    assert.equal(clock.pending, 0, "the restart was cancelled");
    const before = kinds().length;
    await clock.advance(10_000);
    assert.equal(broker.runs.length, 1);
    assert.equal(kinds().length, before, "exits during stop are not reported as failures");
    assert.equal(sup.state("web")?.kind, "stopped");
    await assert.rejects(sup.add(new FakeService("late")), /stopping/);
  });

  it("stop during a restart's start waits for it and leaves nothing running", async () => {
    const { clock, sup } = rig();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const svc = new FakeService("c0re");
    await sup.add(svc);
    svc.gate = gate;
    svc.kill();
    await clock.advance(100);
    assert.equal(sup.state("c0re")?.kind, "starting");
    const stopping = sup.stop();
    release();
    await stopping;
    assert.equal(sup.state("c0re")?.kind, "stopped");
    assert.equal(svc.runs.length, 1, "the aborted start made no run");
  });
});
