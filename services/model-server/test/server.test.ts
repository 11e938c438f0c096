/**
 * The server on a real socket: what only a TCP client shows (clients going away, close with
 * answers held, a refused body still being sent), the control API over fetch as the harness's
 * ModelControl uses it, and the `main.js` entry point.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnService } from "@hyperhive/shared";
import { tempDir, waitUntil, withTimeout } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, beforeEach, describe, it } from "vitest";
import { DEFAULT_SCRIPT, type ModelServer, startModelServer } from "../src/mod.js";
import { postMessages, userPrompt } from "./helpers.js";

async function health(url: string): Promise<{ ok: boolean; rules: number; held: number }> {
  return (await fetch(`${url}/_health`)).json() as Promise<{
    ok: boolean;
    rules: number;
    held: number;
  }>;
}

describe("startModelServer", () => {
  let ms: ModelServer;
  beforeAll(async () => {
    ms = await startModelServer({ port: 0 });
  });
  afterAll(async () => {
    await ms.close();
  });
  beforeEach(() => {
    ms.setScript(DEFAULT_SCRIPT);
  });

  it("serves the control API over fetch as ModelControl calls it", async () => {
    // fetch sends a string body as text/plain: the server reads it as JSON all the same.
    const put = await fetch(`${ms.url}/_script`, {
      method: "PUT",
      body: JSON.stringify([{ match: "", reply: [{ text: "scripted" }] }]),
    });
    assert.deepEqual(await put.json(), { ok: true, rules: 1 });
    assert.deepEqual(await (await fetch(`${ms.url}/_requests`, { method: "DELETE" })).json(), {
      ok: true,
    });
    const res = await postMessages(ms.url, [userPrompt("over tcp")]);
    assert.match(await res.text(), /"text":"scripted"/);
    const log = (await (await fetch(`${ms.url}/_requests`)).json()) as { text: string }[];
    assert.deepEqual(
      log.map((e) => e.text),
      ["over tcp"],
    );
    assert.deepEqual(ms.requests(), log);
    const rel = await fetch(`${ms.url}/_release`, { method: "POST" });
    assert.deepEqual(await rel.json(), { released: 0 });
  });

  it("drops a held answer whose client went away", async () => {
    ms.setScript([{ match: "", hold: true, reply: [{ text: "never" }] }]);
    const ac = new AbortController();
    const pending = fetch(`${ms.url}/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hold" }] }),
      signal: ac.signal,
    });
    await waitUntil(async () => (await health(ms.url)).held === 1, { what: "the held answer" });
    ac.abort();
    await assert.rejects(pending);
    await waitUntil(async () => (await health(ms.url)).held === 0, {
      what: "the held answer to be dropped",
    });
    assert.equal(ms.release(), 0);
  });

  it("waits delay_ms on the real clock", async () => {
    ms.setScript([{ match: "", delay_ms: 50, reply: [{ text: "late" }] }]);
    const t0 = performance.now();
    await (await postMessages(ms.url, [userPrompt("x")])).text();
    assert.ok(performance.now() - t0 >= 49, "answered before the delay");
  });

  it("reads a refused body to its end, so a client that writes before reading gets the 413", async () => {
    const small = await startModelServer({ port: 0, maxBodyBytes: 1024 });
    try {
      const { port } = new URL(small.url);
      const body = Buffer.alloc(8 << 20, "x");
      // A raw socket that sends everything first, then reads: no early-response handling.
      const socket = connect(Number(port), "127.0.0.1");
      let reply = "";
      socket.setEncoding("utf8").on("data", (d: string) => {
        reply += d;
      });
      socket.write(
        `POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      socket.end(body);
      await withTimeout(once(socket, "close"), 10_000, "the 413");
      assert.match(reply, /^HTTP\/1\.1 413 /);
      assert.match(reply, /"type":"request_too_large"/);
    } finally {
      await small.close();
    }
  });
});

describe("close", () => {
  it("ends held answers and resolves; a second close returns the same promise", async () => {
    const ms = await startModelServer({
      port: 0,
      script: [{ match: "", hold: true, reply: [{ text: "never" }] }],
    });
    const pending = postMessages(ms.url, [userPrompt("held")]);
    await waitUntil(async () => (await health(ms.url)).held === 1, { what: "the held answer" });
    const closed = ms.close();
    assert.equal(ms.close(), closed);
    await withTimeout(closed, 5000, "close with an answer held");
    await assert.rejects(pending);
  });

  it("refuses to start with a bad script", async () => {
    await assert.rejects(startModelServer({ script: [{ match: "(" }] }), /match/);
  });
});

describe("main.js", () => {
  const main = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));

  it("prints the ready line, serves the --script, and exits 0 on SIGTERM", async () => {
    const dir = tempDir("model-server-main-");
    const script = join(dir.path, "script.json");
    writeFileSync(script, JSON.stringify({ rules: [{ reply: [{ text: "from the file" }] }] }));
    const p = spawnService({
      name: "model-server",
      command: process.execPath,
      args: [main, "--port", "0", "--script", script],
      echoStderr: true,
      readyTimeoutMs: 10_000,
    });
    try {
      const ready = await p.ready;
      assert.equal(typeof ready.url, "string");
      const url = String(ready.url);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await health(url), { ok: true, rules: 1, held: 0 });
      const res = await postMessages(url, [userPrompt("x")]);
      assert.match(await res.text(), /"text":"from the file"/);
      p.child.kill("SIGTERM");
      assert.deepEqual(await withTimeout(p.exited, 10_000, "exit"), { code: 0, signal: null });
    } finally {
      await p.stop(0);
      dir.remove();
    }
  });
  it("refuses a bad --script with a one-line reason and exit 1", async () => {
    const dir = tempDir("model-server-main-");
    const script = join(dir.path, "bad.json");
    writeFileSync(script, JSON.stringify([{ match: "(", reply: [{ text: "x" }] }]));
    const p = spawnService({
      command: process.execPath,
      args: [main, "--script", script],
      readyTimeoutMs: 10_000,
    });
    try {
      await assert.rejects(p.ready);
      assert.deepEqual(await p.exited, { code: 1, signal: null });
      assert.equal(
        p.output().trim(),
        `model-server: --script ${script}: rules.0.match: not a valid JavaScript regular expression`,
      );
    } finally {
      dir.remove();
    }
  });
});
