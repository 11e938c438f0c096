import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { type NatsServerHandle, natsForTests, tempDir } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { StartError } from "../src/child.js";
import { operatorToken } from "../src/identity.js";
import { rootPaths } from "../src/paths.js";
import {
  modelServerSpec,
  natsServerSpec,
  type ServiceContext,
  schedulerSpec,
  webSpec,
} from "../src/services.js";
import { isPermanent } from "../src/supervisor.js";

/** The specs `hive up` supervises, started for real: what a restart keeps. */
describe("service specs (real processes)", () => {
  let tmp: ReturnType<typeof tempDir>;
  let nats: NatsServerHandle;
  let ctx: ServiceContext;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    tmp = tempDir("hive-specs-");
    nats = await natsForTests();
    const paths = rootPaths(tmp.path);
    mkdirSync(paths.servicesLogDir, { recursive: true });
    operatorToken(paths);
    ctx = { paths, env: { ...process.env, HIVE_ROOT: tmp.path, NATS_URL: nats.url } };
  });

  afterAll(async () => {
    await nats?.stop();
    tmp?.remove();
  });

  it("nats-server and the model server come back where they were after a restart", async () => {
    const n = natsServerSpec(ctx, undefined);
    const first = await n.start(signal);
    const url = n.url;
    assert.ok(url && n.port);
    assert.equal(first.pids.length, 2, "the guard and nats-server");
    await first.stop();
    const second = await n.start(signal);
    assert.equal(n.url, url, "the same port");
    await second.stop();

    const m = modelServerSpec(ctx);
    const a = await m.start(signal);
    const modelUrl = m.url;
    await a.stop();
    const b = await m.start(signal);
    assert.equal(m.url, modelUrl);
    await b.stop();
  });

  it("the scheduler comes up with its own sqlite under the root, and stops", async () => {
    const spec = schedulerSpec(ctx);
    assert.equal(spec.name, "scheduler");
    const run = await spec.start(signal);
    const db = join(tmp.path, "db", "scheduler.sqlite");
    assert.equal(existsSync(db), true, "its file is <root>/db/scheduler.sqlite");
    assert.equal(existsSync(join(ctx.paths.servicesLogDir, "scheduler.log")), true);
    await run.stop();
    const exit = await run.exited;
    assert.equal(exit.code, 0, `a graceful stop: ${JSON.stringify(exit)}`);
  });

  it("web on a taken port fails for good, with the operator's message", async () => {
    const server: Server = createServer();
    await new Promise<void>((res) => server.listen({ port: 0, host: "127.0.0.1" }, () => res()));
    const addr = server.address();
    assert.ok(typeof addr === "object" && addr);
    try {
      const web = webSpec(ctx, addr.port);
      const err = await web.start(signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof StartError, String(err));
      assert.equal(err.message, `port ${addr.port} is in use; use --port`);
      assert.equal(err.exit?.code, 3, "web's exit code for a taken port");
      assert.equal(isPermanent(err), true, "no restart can fix it");
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
  });

  it("a start aborted by the hive stopping leaves nothing and says so", async () => {
    const stop = new AbortController();
    const web = webSpec(ctx, 0);
    const starting = web.start(stop.signal);
    stop.abort();
    await assert.rejects(
      starting,
      /web (not started|stopped while starting): the hive is stopping/,
    );
  });
});
