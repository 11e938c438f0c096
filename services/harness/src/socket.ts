import { existsSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import {
  ErrorCode,
  HiveError,
  LineBuffer,
  type Logger,
  SocketRequest,
  SocketResponse,
  toWireError,
  WireError,
} from "@hyperhive/shared";

/** Longest request line accepted; a longer one is refused and the connection closed. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Connections served at once; more are dropped. The MCP server and `wake` each hold one per
 * call, so this only bounds a runaway or hostile process in the container.
 */
export const MAX_CONNECTIONS = 64;

/**
 * Answers one validated request; a thrown error becomes an `ok: false` line. `signal` aborts
 * when the requesting connection closes (nobody will read the answer).
 */
export type SocketHandler = (req: SocketRequest, signal?: AbortSignal) => Promise<unknown>;

function idOf(raw: unknown): number | null {
  if (typeof raw === "object" && raw !== null && "id" in raw) {
    const id = (raw as { id: unknown }).id;
    if (typeof id === "number" && Number.isInteger(id)) return id;
  }
  return null;
}

/**
 * Turns one request line into its response line. Exported for tests: malformed JSON or a request
 * that fails its schema gives a typed `bad_request` error (with the request's id when it had one).
 */
export async function answerLine(
  line: string,
  handler: SocketHandler,
  signal?: AbortSignal,
): Promise<SocketResponse> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return {
      id: null,
      ok: false,
      error: { code: ErrorCode.BadRequest, message: "line is not valid JSON", retryable: false },
    };
  }
  const id = idOf(raw);
  const parsed = SocketRequest.safeParse(raw);
  if (!parsed.success) {
    return { id, ok: false, error: toWireError(parsed.error) };
  }
  try {
    return { id: parsed.data.id, ok: true, result: await handler(parsed.data, signal) };
  } catch (e) {
    return { id: parsed.data.id, ok: false, error: toWireError(e) };
  }
}

/**
 * The per-agent unix socket: line-delimited JSON, one {@link SocketRequest} per line, answered
 * (possibly out of order, matched by `id`) with one {@link SocketResponse} line each. A bad line
 * gets an error line; the connection stays up.
 */
export class SocketServer {
  private readonly path: string;
  private readonly handler: SocketHandler;
  private readonly log: Logger | undefined;
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  private stopping: Promise<void> | undefined;

  constructor(opts: { path: string; handler: SocketHandler; log?: Logger }) {
    this.path = opts.path;
    this.handler = opts.handler;
    this.log = opts.log;
  }

  /** Listens, replacing a stale socket file left by a dead harness. */
  async start(): Promise<void> {
    if (existsSync(this.path)) rmSync(this.path, { force: true });
    const server = createServer((c) => this.onConnection(c));
    server.maxConnections = MAX_CONNECTIONS;
    server.on("drop", () => this.log?.warn({ max: MAX_CONNECTIONS }, "socket connection dropped"));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  private onConnection(c: Socket): void {
    this.conns.add(c);
    c.setEncoding("utf8");
    const gone = new AbortController();
    const lines = new LineBuffer((raw) => {
      const line = raw.trim();
      if (line.length > 0) this.answer(c, line, gone.signal);
    });
    c.on("data", (chunk: string) => {
      lines.push(chunk);
      if (lines.pendingBytes > MAX_LINE_BYTES) {
        const res: SocketResponse = {
          id: null,
          ok: false,
          error: { code: ErrorCode.BadRequest, message: "line too long", retryable: false },
        };
        // Stop reading and close both ways once the error is out: end() alone leaves a client
        // that keeps writing half-open, its bytes piling up in the buffer.
        lines.clear();
        c.removeAllListeners("data");
        c.pause();
        c.end(`${JSON.stringify(res)}\n`, () => c.destroy());
      }
    });
    c.on("error", (e) => this.log?.debug({ err: e }, "socket connection error"));
    c.on("close", () => {
      this.conns.delete(c);
      gone.abort();
    });
  }

  private answer(c: Socket, line: string, signal: AbortSignal): void {
    answerLine(line, this.handler, signal).then(
      (res) => this.write(c, res),
      (e: unknown) => this.log?.error({ err: e }, "socket handler failed"),
    );
  }

  private write(c: Socket, res: SocketResponse): void {
    if (!c.destroyed && c.writable) c.write(`${JSON.stringify(res)}\n`);
  }

  /** Closes the listener and every connection, removes the socket file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const server = this.server;
      for (const c of this.conns) c.destroy();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(this.path, { force: true });
    })();
    return this.stopping;
  }
}

/** Request without the `id`, which {@link socketRequest} assigns. */
export type SocketCommand = SocketRequest extends infer R
  ? R extends SocketRequest
    ? Omit<R, "id">
    : never
  : never;

let nextId = 1;

/**
 * Sends one request over the socket on a fresh connection and returns the validated result.
 * Throws {@link HiveError}: the harness's typed error, `unavailable` if nobody listens, `timeout`.
 */
export function socketRequest(
  path: string,
  cmd: SocketCommand,
  opts: { timeoutMs?: number } = {},
): Promise<unknown> {
  const id = nextId++;
  return new Promise<unknown>((resolve, reject) => {
    const c = createConnection(path);
    c.setEncoding("utf8");
    let settled = false;
    const finish = (err: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new HiveError(ErrorCode.Timeout, `no answer on ${path}`)),
      opts.timeoutMs ?? 200_000,
    );
    c.on("connect", () => c.write(`${JSON.stringify({ ...cmd, id })}\n`));
    const lines = new LineBuffer((line) => {
      if (settled) return;
      let res: SocketResponse;
      try {
        res = SocketResponse.parse(JSON.parse(line));
      } catch (e) {
        finish(
          new HiveError(ErrorCode.Internal, "harness answered a malformed line", { cause: e }),
        );
        return;
      }
      if (res.ok && res.id === id) return finish(null, res.result);
      if (!res.ok && (res.id === id || res.id === null)) {
        const w = WireError.safeParse(res.error);
        return finish(
          w.success
            ? HiveError.fromWire(w.data)
            : new HiveError(ErrorCode.Internal, res.error.message, {
                retryable: res.error.retryable,
              }),
        );
      }
    });
    c.on("data", (chunk: string) => lines.push(chunk));
    c.on("error", (e) =>
      finish(
        new HiveError(ErrorCode.Unavailable, `cannot reach the harness at ${path}: ${e.message}`, {
          cause: e,
        }),
      ),
    );
    c.on("close", () =>
      finish(new HiveError(ErrorCode.Unavailable, `the harness closed the socket at ${path}`)),
    );
  });
}
