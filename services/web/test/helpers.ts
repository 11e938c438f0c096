import assert from "node:assert/strict";
import type { Server } from "node:http";
import { createLogger, type RpcSpec, type Service, serve } from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests } from "@hyperhive/shared/testing";
import { connect, errors, type NatsConnection } from "@nats-io/transport-node";
import type { InjectOptions } from "fastify";
import { afterAll, afterEach, beforeAll } from "vitest";
import type * as z from "zod";
import { buildApp, type WebAppOptions, type WebServer } from "../src/app.js";
import { ApiError } from "../src/wire.js";

/** `data` parsed with `schema` (which must be there). */
export function parseWith<S extends z.ZodType>(schema: S | undefined, data: unknown): z.output<S> {
  assert.ok(schema, "no such schema");
  return schema.parse(data);
}

export const TOKEN = "test-operator-token-0123456789";

/** The test log: silent unless HIVE_LOG_LEVEL asks for more. */
export const testLog = () =>
  createLogger("web-test", { level: process.env.HIVE_LOG_LEVEL ?? "silent" });

/** A real nats-server, a client connection for the test, and the app (not listening yet). */
export interface Harness {
  server: NatsServerHandle;
  /** The test's own connection (responders, publishers). */
  nc: NatsConnection;
  /** The app's connection. */
  appNc: NatsConnection;
  app: WebServer;
  /** Listens on 127.0.0.1, port 0 (once), for what `inject` cannot do: streams, browsers. */
  listen(): Promise<string>;
  stop(): Promise<void>;
}

/** A harness shared by the tests of one `describe`, and the responders each test starts. */
export interface HarnessScope {
  /** The harness (started by the block's `beforeAll`). */
  readonly h: Harness;
  /** Stops `s` after the current test; resolves with it once the NATS server knows it. */
  keep<T extends Service | { service: Service }>(s: T): Promise<T>;
}

/** Starts a harness before the block's tests and stops it after; responders go after each test. */
export function harnessScope(opts: Partial<WebAppOptions> = {}): HarnessScope {
  let harness: Harness | undefined;
  const services: Service[] = [];
  beforeAll(async () => {
    harness = await startHarness(opts);
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await harness?.stop();
  });
  const scope: HarnessScope = {
    get h() {
      assert.ok(harness, "the harness starts in beforeAll");
      return harness;
    },
    async keep(s) {
      services.push("service" in s ? s.service : s);
      await scope.h.nc.flush();
      return s;
    },
  };
  return scope;
}

export async function startHarness(opts: Partial<WebAppOptions> = {}): Promise<Harness> {
  const server = await natsForTests();
  const nc = await connect({ servers: server.url });
  const appNc = await connect({ servers: server.url });
  const app = await buildApp({ nc: appNc, token: TOKEN, log: testLog(), ...opts });
  let url: Promise<string> | undefined;
  return {
    server,
    nc,
    appNc,
    app,
    listen() {
      url ??= listenLocal(app);
      return url;
    },
    async stop() {
      await app.close();
      await appNc.drain();
      await nc.drain();
      await server.stop();
    },
  };
}

/** Listens on 127.0.0.1, port 0; resolves with the base URL. */
export async function listenLocal(app: {
  listen(opts: { host: string; port: number }): Promise<string>;
  server: Server;
}): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  if (typeof addr !== "object" || addr === null) throw new Error("app has no address");
  return `http://127.0.0.1:${addr.port}`;
}

export const auth = { authorization: `Bearer ${TOKEN}` };

/** An injected response: status, headers and the body as text and (when it is) JSON. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  json(): unknown;
}

/** `app.inject()` with the bearer token unless `headers` says otherwise. */
export async function call(
  app: WebServer,
  method: "GET" | "POST",
  url: string,
  opts: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
): Promise<Reply> {
  const req: InjectOptions = { method, url, headers: opts.headers ?? auth };
  if (opts.body !== undefined) {
    req.headers = { ...req.headers, "content-type": "application/json" };
    req.payload = JSON.stringify(opts.body);
  } else if (opts.raw !== undefined) {
    req.payload = opts.raw;
  }
  const res = await app.inject(req);
  return {
    status: res.statusCode,
    headers: res.headers,
    text: res.body,
    json: () => res.json<unknown>(),
  };
}

/** A test responder standing in for c0re or a harness: what it was asked, on which subject. */
export interface Recorder<Req> {
  /** Every request, parsed with the subject's request schema, in order. */
  readonly seen: Array<{ subject: string; req: Req }>;
  readonly service: Service;
}

/**
 * Serves `subject` with the real schemas (a wildcard is fine) and records each request; `answer`
 * gives the reply, or throws a HiveError for a typed error reply.
 */
export function record<Req extends z.ZodType, Res extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  spec: RpcSpec<Req, Res>,
  answer: (req: z.infer<Req>, subject: string) => z.input<Res> | Promise<z.input<Res>>,
): Recorder<z.infer<Req>> {
  const seen: Array<{ subject: string; req: z.infer<Req> }> = [];
  const service = serve(nc, subject, spec, (req, msg) => {
    seen.push({ subject: msg.subject, req });
    return answer(req, msg.subject);
  });
  return { seen, service };
}

/**
 * POSTs each malformed body to `url`, and one that is not JSON at all: each must be a one-line
 * 400 `bad_request` whose message matches its pattern. The caller checks nothing reached NATS.
 */
export async function expectBadBodies(
  app: WebServer,
  url: string,
  cases: ReadonlyArray<readonly [body: unknown, message: RegExp]>,
): Promise<void> {
  const notJson = await call(app, "POST", url, {
    headers: { ...auth, "content-type": "application/json" },
    raw: "{nope",
  });
  assert.equal(notJson.status, 400, `${url}: not JSON`);
  assert.equal(ApiError.parse(notJson.json()).error.code, "bad_request");
  for (const [body, message] of cases) {
    const r = await call(app, "POST", url, { body });
    const what = `${url} ${JSON.stringify(body)}`;
    assert.equal(r.status, 400, what);
    const e = ApiError.parse(r.json()).error;
    assert.equal(e.code, "bad_request", what);
    assert.match(e.message, message, what);
    assert.doesNotMatch(e.message, /\n/, what);
  }
}

/** A promise and the functions that settle it, for a test to decide when something answers. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (v: T) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** True once nobody subscribes to `subject` (a request then fails fast with "no responders"). */
export async function noInterest(h: Harness, subject: string): Promise<boolean> {
  try {
    await h.nc.request(subject, "{}", { timeout: 200 });
    return false;
  } catch (e) {
    return e instanceof errors.RequestError && e.isNoResponders();
  }
}
