import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rpcs, type Service, serve, subjects, writeFileAtomic } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { FileToken, TokenFileError } from "../src/token.js";
import { agentInfo } from "./fixtures.js";
import { call, type Harness, startHarness, testLog } from "./helpers.js";
import { SseClient } from "./sse-client.js";

const OLD = "old-operator-token-0123456789";
const NEW = "new-operator-token-9876543210";

/** What `hive token --rotate` does: write a new file beside it, then rename it over the old one. */
function rotate(path: string, token: string): void {
  writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const cookie = (t: string) => ({ cookie: `hive_token=${encodeURIComponent(t)}` });

describe("operator token from a file", () => {
  const dir = tempDir("hive-web-token-");
  const path = join(dir.path, "web-token");
  let file: FileToken;
  let h: Harness;
  let registry: Service;
  beforeAll(async () => {
    writeFileSync(path, `${OLD}\n`, { mode: 0o600 });
    file = FileToken.open(path, testLog());
    h = await startHarness({ token: file });
    registry = serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("alice")],
    }));
    await h.nc.flush();
  });
  afterAll(async () => {
    await registry.stop();
    await h.stop();
    file.close();
    dir.remove();
  });

  it("takes a rotated token at once: the old one (bearer or cookie) gets 401, the new one works", async () => {
    assert.equal(file.current(), OLD, "the trailing newline is not part of the token");
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(OLD) })).status, 200);
    assert.equal((await call(h.app, "GET", "/", { headers: cookie(OLD) })).status, 200);
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(NEW) })).status, 401);

    rotate(path, NEW);
    // No wait: the very next request sees the new file.
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(OLD) })).status, 401);
    assert.equal((await call(h.app, "GET", "/", { headers: cookie(OLD) })).status, 401);
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(NEW) })).status, 200);
    assert.equal((await call(h.app, "GET", "/", { headers: cookie(NEW) })).status, 200);
    const login = await call(h.app, "GET", `/?token=${NEW}`, { headers: {} });
    assert.equal(login.status, 303);
    assert.match(String(login.headers["set-cookie"]), new RegExp(`^hive_token=${NEW};`));
    assert.equal((await call(h.app, "GET", `/?token=${OLD}`, { headers: {} })).status, 401);
  });

  it("ends live streams opened with the old token when it is rotated", async () => {
    const url = await h.listen();
    rotate(path, OLD);
    const events = await SseClient.open(`${url}/api/events`, cookie(OLD));
    assert.equal(events.status, 200);
    const live = await SseClient.open(`${url}/api/agents/alice/live`, bearer(OLD));
    assert.equal((await live.next()).event, "history");

    // Nobody makes a request: the directory watch notices the rename.
    rotate(path, NEW);
    await events.waitEnd();
    await live.waitEnd();
    assert.equal(h.app.sseHub.size, 0);
    // What EventSource does next: reconnect, with the old cookie.
    const again = await SseClient.open(`${url}/api/events`, cookie(OLD));
    assert.equal(again.status, 401);
    const fresh = await SseClient.open(`${url}/api/agents/alice/live`, bearer(NEW));
    assert.equal((await fresh.next()).event, "history");
    await fresh.close();
  });

  it("lets nobody in while the file is gone or empty, and the token back when it is", async () => {
    rotate(path, NEW);
    rmSync(path);
    assert.equal(file.current(), undefined);
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(NEW) })).status, 401);
    writeFileSync(path, "\n", { mode: 0o600 });
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(NEW) })).status, 401);
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer("") })).status, 401);
    rotate(path, NEW);
    assert.equal((await call(h.app, "GET", "/api/agents", { headers: bearer(NEW) })).status, 200);
  });

  it("refuses to open a missing or empty file", () => {
    assert.throws(() => FileToken.open(join(dir.path, "nope"), testLog()), TokenFileError);
    const empty = join(dir.path, "empty");
    writeFileSync(empty, "  \n", { mode: 0o600 });
    assert.throws(() => FileToken.open(empty, testLog()), /empty/);
  });
});
