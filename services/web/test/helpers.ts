import assert from "node:assert/strict";
import type { Server } from "node:http";
import {
  type AgentInfo,
  type Approval,
  createLogger,
  type RpcSpec,
  type Service,
  type StoredMessage,
  serve,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, withTimeout } from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { InjectOptions } from "fastify";
import { afterAll, afterEach, beforeAll } from "vitest";
import type * as z from "zod";
import { buildApp, type WebAppOptions, type WebServer } from "../src/app.js";
import { ApiError, type EventCatalog } from "../src/wire.js";

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

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * A minimal SSE client over fetch: parses the stream into events and lets a test wait for the
 * next one. Comments (heartbeats) are counted, not queued.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  status = 0;
  headers: Headers = new Headers();
  readonly #abort = new AbortController();
  #waiters: Array<() => void> = [];
  #cursor = 0;
  #done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string> = auth): Promise<SseClient> {
    const c = new SseClient();
    const res = await fetch(url, { headers, signal: c.#abort.signal });
    c.status = res.status;
    c.headers = res.headers;
    if (!res.ok || !res.body) {
      c.ended = true;
      await res.body?.cancel();
      return c;
    }
    c.#done = c.#read(res.body);
    return c;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let idx = buf.indexOf("\n\n");
        while (idx >= 0) {
          this.#frame(buf.slice(0, idx));
          buf = buf.slice(idx + 2);
          idx = buf.indexOf("\n\n");
        }
      }
    } catch {
      // aborted by close(), or the server went away
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #frame(text: string): void {
    let event = "message";
    const data: string[] = [];
    let comment = false;
    for (const line of text.split("\n")) {
      if (line.startsWith(":")) comment = true;
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) {
      const parsed: unknown = JSON.parse(data.join("\n"));
      this.events.push({ event, data: parsed });
      this.#wake();
    } else if (comment) {
      this.comments++;
      this.#wake();
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves on any change (event, comment, end). */
  changed(): Promise<void> {
    return new Promise((res) => this.#waiters.push(res));
  }

  /** The next event after those already taken; fails on end of stream or after `ms`. */
  async next(ms = 5000): Promise<SseEvent> {
    return withTimeout(
      (async () => {
        for (;;) {
          const ev = this.events[this.#cursor];
          if (ev) {
            this.#cursor++;
            return ev;
          }
          if (this.ended) throw new Error("SSE stream ended");
          await this.changed();
        }
      })(),
      ms,
      "next SSE event",
    );
  }

  /**
   * The next event, which must be `event` of the wire catalog `catalog`, parsed with its schema
   * (as the page parses it).
   */
  async take<C extends EventCatalog, K extends keyof C & string>(
    catalog: C,
    event: K,
    ms = 5000,
  ): Promise<z.infer<C[K]>> {
    const ev = await this.next(ms);
    assert.equal(ev.event, event);
    return parseWith<C[K]>(catalog[event], ev.data);
  }

  /** Waits for the stream to end (server side). */
  async waitEnd(ms = 5000): Promise<void> {
    await withTimeout(this.#done, ms, "SSE stream end");
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}

export function agentInfo(name: string, over: Partial<AgentInfo> = {}): AgentInfo {
  return {
    name,
    role: name === "manager" ? "manager" : "agent",
    state: "idle",
    state_since: Date.now() - 65_000,
    running: true,
    state_dir: `/hive/agents/${name}/state`,
    started_at: Date.now() - 120_000,
    model: "haiku",
    tombstoned_at: null,
    starts: 1,
    ...over,
  };
}

export function stored(id: number, from: string, body: string): StoredMessage {
  return {
    id,
    from,
    to: "operator",
    body,
    sent_at: Date.now() - 1000,
    in_reply_to: null,
    acked_at: null,
  };
}

/** What an approval's fields other than kind and details may be set to in a test. */
type ApprovalFields = Partial<Omit<Approval, "kind" | "details">>;

/** The fields of a pending approval the manager asked for `ageMs` ago. */
function pendingFields(id: number, summary: string, ageMs: number) {
  return {
    id,
    submitter: "manager",
    summary,
    created_at: Date.now() - ageMs,
    state: "pending",
    decided_at: null,
    decided_by: null,
    note: null,
  } as const;
}

/** A pending spawn approval asked by the manager. */
export function spawnApproval(id: number, name: string, over: ApprovalFields = {}): Approval {
  return {
    ...pendingFields(id, `spawn ${name}`, 30_000),
    kind: "spawn",
    details: { name },
    ...over,
  };
}

/** A config diff of `agents/<agent>.json` changing its model from haiku to sonnet. */
export function modelDiff(agent: string): string {
  return [
    `diff --git a/agents/${agent}.json b/agents/${agent}.json`,
    "index 1111111..2222222 100644",
    `--- a/agents/${agent}.json`,
    `+++ b/agents/${agent}.json`,
    "@@ -1,3 +1,3 @@",
    " {",
    '-  "model": "haiku",',
    '+  "model": "sonnet",',
    '   "env": {}',
    "",
  ].join("\n");
}

/** A pending apply_commit approval: the manager asks to change `agent`'s model. */
export function commitApproval(id: number, agent: string, over: ApprovalFields = {}): Approval {
  return {
    ...pendingFields(id, `config of ${agent}: model haiku -> sonnet`, 20_000),
    kind: "apply_commit",
    details: {
      agent,
      commit: "c".repeat(40),
      base: "b".repeat(40),
      diff: modelDiff(agent),
    },
    ...over,
  };
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
