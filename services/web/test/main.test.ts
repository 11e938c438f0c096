import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ServiceProcess, spawnService, writeFileAtomic } from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  tempDir,
  withTimeout,
} from "@hyperhive/shared/testing";
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

async function readyUrl(p: ServiceProcess): Promise<string> {
  const line = await withTimeout(p.ready, 10_000, "ready line");
  assert.equal(line.ready, "web");
  const url = String(line.url);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(url, "http://127.0.0.1:0");
  return url;
}

async function status(url: string, token?: string): Promise<number> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await res.text();
  return res.status;
}

async function stop(p: ServiceProcess): Promise<number | null> {
  p.child.kill("SIGTERM");
  return (await withTimeout(p.exited, 10_000, "web exit")).code;
}

describe("main (the built entry point)", () => {
  let nats: NatsServerHandle;
  const dir = tempDir("hive-web-main-");
  beforeAll(async () => {
    nats = await natsForTests();
  });
  afterAll(async () => {
    await nats.stop();
    dir.remove();
  });

  it("prints the ready line, serves with the token, and exits 0 on SIGTERM", async () => {
    const p = start({ NATS_URL: nats.url, HIVE_WEB_PORT: "0", HIVE_WEB_TOKEN: TOKEN });
    const url = await readyUrl(p);
    assert.equal(await status(`${url}/`), 401);
    assert.equal(await status(`${url}/`, TOKEN), 200);
    assert.equal(await status(`${url}/assets/app.js`, TOKEN), 200, "serves the built UI");
    assert.equal(await stop(p), 0);
  });

  it("reads the token from HIVE_WEB_TOKEN_FILE and takes a rotated one without a restart", async () => {
    const file = join(dir.path, "web-token");
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const inherited = "inherited-from-a-shell-0123456789";
    const p = start({
      NATS_URL: nats.url,
      HIVE_WEB_PORT: "0",
      HIVE_WEB_TOKEN_FILE: file,
      HIVE_WEB_TOKEN: inherited,
    });
    const url = await readyUrl(p);
    assert.equal(await status(`${url}/api/nope`, TOKEN), 404, "in with the file's token");
    assert.equal(await status(`${url}/api/nope`, inherited), 401, "the file wins");

    const rotated = "rotated-operator-token-0123456789";
    writeFileAtomic(file, `${rotated}\n`, { mode: 0o600 });
    assert.equal(await status(`${url}/api/nope`, TOKEN), 401, "the old token is out");
    assert.equal(await status(`${url}/api/nope`, rotated), 404, "the new one is in");
    assert.equal(p.exit, undefined, "no restart");
    assert.equal(await stop(p), 0);
  });

  it("exits 3 with one line on stderr when the port is in use", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    const addr = taken.address();
    assert.ok(typeof addr === "object" && addr !== null);
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: {
          PATH: process.env.PATH ?? "",
          HIVE_LOG_LEVEL: "info",
          NATS_URL: nats.url,
          HIVE_WEB_PORT: String(addr.port),
          HIVE_WEB_TOKEN: TOKEN,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((res) => child.once("exit", (c) => res(c)));
      const code = await withTimeout(exited, 10_000, "web exit");
      assert.equal(code, 3);
      assert.equal(stderr, `web: port ${addr.port} on 127.0.0.1 is in use\n`);
      assert.equal(stdout, "", "no ready line");
    } finally {
      taken.close();
    }
  });

  it("refuses to start without a token", async () => {
    const p = start({ NATS_URL: nats.url, HIVE_WEB_PORT: "0" });
    await assert.rejects(p.ready, /set HIVE_WEB_TOKEN_FILE or HIVE_WEB_TOKEN/);
    assert.equal((await p.exited).code, 1);
  });

  it("refuses to start when the token file is missing", async () => {
    const p = start({
      NATS_URL: nats.url,
      HIVE_WEB_PORT: "0",
      HIVE_WEB_TOKEN_FILE: join(dir.path, "missing"),
    });
    await assert.rejects(p.ready, /HIVE_WEB_TOKEN_FILE .*missing/);
    assert.equal((await p.exited).code, 1);
  });
});
