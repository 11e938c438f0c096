import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { ErrorCode, HiveError } from "../src/errors.js";
import { decodeJson, encodeJson, type RpcSpec, request, serve } from "../src/rpc.js";
import { type NatsServerHandle, natsForTests, startNatsServer } from "../src/testing/mod.js";

const Echo: RpcSpec<z.ZodObject<{ n: z.ZodNumber }>, z.ZodObject<{ doubled: z.ZodNumber }>> = {
  request: z.object({ n: z.number() }),
  response: z.object({ doubled: z.number() }),
};

describe("serve/request over a real nats-server", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await natsForTests();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc.close();
    await server.stop();
  });

  it("answers a valid request with the handler's result", async () => {
    const svc = serve(nc, "t.echo", Echo, (req) => ({ doubled: req.n * 2 }));
    assert.deepEqual(await request(nc, "t.echo", Echo, { n: 21 }), { doubled: 42 });
    await svc.stop();
  });

  it("replies bad_request to non-JSON and to schema violations", async () => {
    let calls = 0;
    const svc = serve(nc, "t.strict", Echo, (req) => {
      calls++;
      return { doubled: req.n };
    });
    const notJson = decodeJson((await nc.request("t.strict", "{nope")).data);
    assert.equal((notJson as { error: { code: string } }).error.code, ErrorCode.BadRequest);
    const wrong = decodeJson((await nc.request("t.strict", encodeJson({ n: "x" }))).data) as {
      error: { code: string; message: string };
    };
    assert.equal(wrong.error.code, ErrorCode.BadRequest);
    assert.match(wrong.error.message, /^n: /);
    assert.equal(calls, 0);
    await svc.stop();
  });

  it("passes a handler's HiveError through as a typed error", async () => {
    const svc = serve(nc, "t.fail", Echo, () => {
      throw new HiveError(ErrorCode.NotFound, "no such thing");
    });
    await assert.rejects(request(nc, "t.fail", Echo, { n: 1 }), (e: unknown) => {
      assert.ok(HiveError.is(e, ErrorCode.NotFound));
      assert.equal(e.message, "no such thing");
      assert.equal(e.retryable, false);
      return true;
    });
    await svc.stop();
  });

  it("refuses to send an invalid request and reports a missing service as unavailable", async () => {
    await assert.rejects(request(nc, "t.none", Echo, { n: "1" } as never), z.ZodError);
    await assert.rejects(request(nc, "t.none", Echo, { n: 1 }), (e: unknown) =>
      HiveError.is(e, ErrorCode.Unavailable),
    );
  });

  it("tells timeouts, refusals and aborts apart by the client's error types", async () => {
    const silent = nc.subscribe("t.silent");
    await nc.flush();
    await assert.rejects(
      request(nc, "t.silent", Echo, { n: 1 }, { timeoutMs: 100 }),
      (e: unknown) => HiveError.is(e, ErrorCode.Timeout),
    );
    const ac = new AbortController();
    const pending = request(
      nc,
      "t.silent",
      Echo,
      { n: 1 },
      { timeoutMs: 10_000, signal: ac.signal },
    );
    ac.abort(new Error("caller gave up"));
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(HiveError.is(e, ErrorCode.Unavailable));
      assert.match(e.message, /request abandoned/);
      assert.ok(e.cause instanceof Error && e.cause.message === "caller gave up");
      return true;
    });
    silent.unsubscribe();

    const guarded = await startNatsServer({
      extraConfig:
        'authorization { users: [ { user: a, password: a, permissions: { publish: { deny: ["t.>"] } } } ] }',
    });
    const limited = await connect({ servers: guarded.url, user: "a", pass: "a" });
    try {
      await assert.rejects(request(limited, "t.echo", Echo, { n: 1 }), (e: unknown) => {
        assert.ok(HiveError.is(e, ErrorCode.Forbidden));
        assert.equal(e.message, "not permitted to publish t.echo");
        return true;
      });
    } finally {
      await limited.close();
      await guarded.stop();
    }
    const closed = await connect({ servers: server.url });
    await closed.close();
    await assert.rejects(request(closed, "t.echo", Echo, { n: 1 }), (e: unknown) =>
      HiveError.is(e, ErrorCode.Unavailable),
    );
  });

  it("stop() is idempotent and returns the same promise", async () => {
    const svc = serve(nc, "t.stop", Echo, (req) => ({ doubled: req.n }));
    const a = svc.stop();
    assert.equal(svc.stop(), a);
    await a;
  });
});
