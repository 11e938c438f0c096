import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  AgentsListResponse,
  InboxListResponse,
  type NatsConnection,
  processAlive,
  ServiceEvent,
} from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { rootPaths } from "../src/paths.js";
import {
  allGone,
  cleanEnv,
  dashboardOf,
  descendants,
  hive,
  jsonLines,
  recordedPid,
  runtimeOf,
  startUp,
  stopUp,
  type Up,
  watchServiceEvents,
} from "./helpers.js";

/**
 * A real `hive up --offline`; the broker, web and nats-server are killed with SIGKILL one after
 * the other, and each must come back by itself with the hive still usable: same NATS port, same
 * token, the operator's ping still answered. Then nats-server is killed as fast as it comes back
 * until the supervisor gives up and stops the hive.
 */
describe("hive up supervises its services (kill -9 of broker, web, nats-server)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let up: Up;
  let sub: NatsConnection;
  let events: ServiceEvent[] = [];
  const figures: string[] = [];
  const cli = (...args: string[]) => hive([...args, "--root", tmp.path], env);

  beforeAll(async () => {
    tmp = tempDir("hive-sup-");
    env = cleanEnv(join(tmp.path, "home"));
    up = startUp(["--offline", "--root", tmp.path, "--port", "0", "--json"], env);
    await dashboardOf(up);
    const rt = runtimeOf(tmp.path);
    const w = await watchServiceEvents(rt.nats_url, rt.nats_creds);
    sub = w.nc;
    events = w.events;
  }, 150_000);

  afterAll(async () => {
    console.log(`supervision figures:\n  ${figures.join("\n  ")}`);
    await sub?.close();
    await stopUp(up);
    tmp?.remove();
  });

  /** Kills `pid` and waits for the service's second start, as a ServiceEvent or a terminal line. */
  async function killAndWaitBack(service: string, pid: number, viaEvents: boolean) {
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    if (viaEvents) {
      await waitUntil(
        () => events.some((e) => e.service === service && e.starts === 2 && e.event === "started"),
        {
          timeoutMs: 30_000,
          what: `the started event of ${service}`,
        },
      );
    } else {
      await waitUntil(() => up.stderr().includes(`hive: ${service} is back`), {
        timeoutMs: 30_000,
        what: `${service} back`,
      });
    }
    const ms = Date.now() - t0;
    figures.push(`${service}: back ${ms} ms after SIGKILL`);
    assert.match(
      up.stderr(),
      new RegExp(`hive: ${service} exited on its own \\(signal SIGKILL\\)`),
    );
    assert.match(
      up.stderr(),
      new RegExp(`hive: restarting ${service} in 250 ms \\(failure 1 in a row\\)`),
    );
    return ms;
  }

  /** Sends a ping as the operator and waits for the manager's pong; returns how long it took. */
  async function pingAnswered(word: string): Promise<number> {
    const t0 = Date.now();
    const sent = await cli("send", "manager", word);
    assert.equal(sent.code, 0, sent.stderr);
    await waitUntil(
      async () => {
        const r = await cli("inbox", "--json");
        if (r.code !== 0) return false;
        return InboxListResponse.parse(JSON.parse(r.stdout)).messages.some(
          (m) => m.body === `pong: ${word}`,
        );
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `the manager's pong to ${word}` },
    );
    const ms = Date.now() - t0;
    figures.push(`ping "${word}" answered in ${ms} ms`);
    return ms;
  }

  it("a killed broker comes back (events on hive.events.service.broker) and the ping is answered", async () => {
    const pid = recordedPid(tmp.path, "broker");
    assert.ok(pid);
    await killAndWaitBack("broker", pid, true);
    const mine = events
      .filter((e) => e.service === "broker")
      .map((e) => [e.event, e.detail, e.starts]);
    assert.deepEqual(mine, [
      ["exited", "signal SIGKILL", 1],
      ["restarting", "in 250 ms", 1],
      ["started", undefined, 2],
    ]);
    const again = recordedPid(tmp.path, "broker");
    assert.ok(again && again !== pid && processAlive(again));
    // --json: the same events, one JSON line each on hive up's stdout.
    const printed = jsonLines(up.stdout()).flatMap((l) => {
      const r = z.object({ service: ServiceEvent }).safeParse(l);
      return r.success && r.data.service.service === "broker" ? [r.data.service.event] : [];
    });
    assert.deepEqual(printed, ["started", "exited", "restarting", "started"]);
    await pingAnswered("after-broker");
  }, 150_000);

  it("a killed web comes back on the same port, and a browser session keeps working", async () => {
    const rt = runtimeOf(tmp.path);
    const login = await fetch(`${rt.web_url}/?token=${rt.token}`, { redirect: "manual" });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    await login.body?.cancel();
    const pid = recordedPid(tmp.path, "web");
    assert.ok(pid);
    await killAndWaitBack("web", pid, true);
    assert.equal(runtimeOf(tmp.path).web_url, rt.web_url);
    const res = await fetch(`${rt.web_url}/api/agents`, { headers: { cookie } });
    assert.equal(res.status, 200, "the same token, the same session");
    AgentsListResponse.parse(await res.json());
  }, 60_000);

  it("a killed nats-server comes back on the same port; clients carry on; held events arrive", async () => {
    const rt = runtimeOf(tmp.path);
    const pid = recordedPid(tmp.path, "nats-server", "nats.conf");
    assert.ok(pid);
    await killAndWaitBack("nats-server", pid, false);
    assert.equal(runtimeOf(tmp.path).nats_url, rt.nats_url);
    // Published while NATS was away, sent once it was back: our own subscriber hears them.
    await waitUntil(
      () =>
        events.some((e) => e.service === "nats-server" && e.event === "started" && e.starts === 2),
      { timeoutMs: 10_000, what: "nats-server's held events" },
    );
    const mine = events.filter((e) => e.service === "nats-server").map((e) => e.event);
    assert.deepEqual(mine, ["exited", "restarting", "started"]);
    const t0 = Date.now();
    const agents = await waitUntil(
      async () => {
        const r = await cli("agents", "--json");
        return r.code === 0 ? AgentsListResponse.parse(JSON.parse(r.stdout)) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "hive agents against the same port" },
    );
    figures.push(`hive agents answered ${Date.now() - t0} ms after nats-server was back`);
    assert.ok(agents.agents.some((a) => a.name === "manager"));
    await pingAnswered("after-nats");
  }, 150_000);

  it("gives up after 5 fast failures in a row of nats-server, stops the hive and exits 1", async () => {
    const pids = new Set(descendants(up.pid));
    let last: number | undefined;
    let kills = 0;
    let lastKill = 0;
    while (up.child.exitCode === null) {
      const pid = await waitUntil(
        () => {
          if (up.child.exitCode !== null) return "exited";
          const p = recordedPid(tmp.path, "nats-server", "nats.conf");
          return p !== undefined && p !== last && processAlive(p) ? p : undefined;
        },
        { timeoutMs: 30_000, what: "the next nats-server" },
      );
      if (pid === "exited") break;
      for (const d of descendants(up.pid)) pids.add(d);
      process.kill(pid, "SIGKILL");
      lastKill = Date.now();
      kills++;
      last = pid;
    }
    assert.equal(await up.exited, 1, up.stderr());
    figures.push(
      `hive up exited ${Date.now() - lastKill} ms after the last kill (its stop runs without NATS)`,
    );
    // 5 fast failures in a row: the kill of the previous test counts too if that run was short.
    assert.ok(kills === 4 || kills === 5, `kills: ${kills}`);
    assert.match(
      up.stderr(),
      /hive: giving up on nats-server: 5 fast failures in a row, the last: exited \(signal SIGKILL\); stopping the hive\n/,
    );
    for (const delay of [500, 1000, 2000]) {
      assert.match(up.stderr(), new RegExp(`restarting nats-server in ${delay} ms`));
    }
    await allGone(pids, 40_000);
    const paths = rootPaths(tmp.path);
    assert.equal(existsSync(paths.runtimeFile), false);
    assert.equal(existsSync(paths.processesFile), false);
  }, 120_000);
});
