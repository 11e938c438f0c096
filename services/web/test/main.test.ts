import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { type ServiceProcess, spawnService } from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, withTimeout } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { TOKEN } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));

function start(env: Record<string, string>): ServiceProcess {
  // Any ready line, so the test checks which service it names.
  return spawnService({
    command: process.execPath,
    args: [MAIN],
    env: { PATH: process.env.PATH ?? "", HIVE_LOG_LEVEL: "warn", ...env },
    readyTimeoutMs: 10_000,
  });
}

describe("main (the built entry point)", () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await natsForTests();
  });
  afterAll(async () => {
    await nats.stop();
  });

  it("prints the ready line, serves with the token, and exits 0 on SIGTERM", async () => {
    const { child, ready } = start({
      NATS_URL: nats.url,
      HIVE_WEB_PORT: "0",
      HIVE_WEB_TOKEN: TOKEN,
    });
    const line = (await withTimeout(ready, 10_000, "ready line")) as {
      ready: string;
      url: string;
    };
    assert.equal(line.ready, "web");
    assert.match(line.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(line.url, "http://127.0.0.1:0");

    const denied = await fetch(`${line.url}/`);
    assert.equal(denied.status, 401);
    await denied.text();
    const page = await fetch(`${line.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(page.status, 200);
    await page.text();

    const exit = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await withTimeout(exit, 10_000, "web exit")) as [number | null];
    assert.equal(code, 0);
  });

  it("refuses to start without HIVE_WEB_TOKEN", async () => {
    const { child, ready } = start({ NATS_URL: nats.url, HIVE_WEB_PORT: "0" });
    const exit = once(child, "exit");
    await assert.rejects(ready, /HIVE_WEB_TOKEN/);
    const [code] = (await exit) as [number | null];
    assert.equal(code, 1);
  });
});
