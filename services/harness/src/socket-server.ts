import { existsSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { ErrorCode, LineBuffer, type Logger, type SocketResponse } from "@hyperhive/shared";
import { answerLine, badRequest, type SocketHandlers } from "./socket.js";

/** Longest request line accepted; a longer one is refused and the connection closed. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Connections served at once; more are dropped. The MCP server and `wake` each hold one per
 * call, so this only bounds a runaway or hostile process in the container.
 */
export const MAX_CONNECTIONS = 64;

/**
 * The per-agent unix socket: line-delimited JSON, one request `{id, cmd, ...params}` per line,
 * answered (possibly out of order, matched by `id`) with one {@link SocketResponse} line each,
 * by the command's handler. A bad line gets an error line; the connection stays up.
 */
export class SocketServer {
  private readonly path: string;
  private readonly handlers: SocketHandlers;
  private readonly log: Logger | undefined;
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  private stopping: Promise<void> | undefined;

  constructor(opts: { path: string; handlers: SocketHandlers; log?: Logger }) {
    this.path = opts.path;
    this.handlers = opts.handlers;
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
        const res = badRequest(null, "line too long");
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
    answerLine(line, this.handlers, signal).then(
      (res) => {
        if (!res.ok && res.error.code === ErrorCode.Internal) {
          this.log?.error({ err: res.error }, "socket command failed");
        }
        this.write(c, res);
      },
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
