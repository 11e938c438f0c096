import { existsSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import {
  type Cancel,
  type Clock,
  describeZodError,
  ErrorCode,
  HiveError,
  LineBuffer,
  type Logger,
  type SocketCommandName,
  type SocketParams,
  SocketRequestId,
  SocketResponse,
  type SocketResult,
  socketCommands,
  systemClock,
  toWireError,
} from "@hyperhive/shared";
import { z } from "zod";

/** Longest request line accepted; a longer one is refused and the connection closed. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Connections served at once; more are dropped. The MCP server and `wake` each hold one per
 * call, so this only bounds a runaway or hostile process in the container.
 */
export const MAX_CONNECTIONS = 64;

/** What a handler learns about its request besides the params. */
export interface SocketCall {
  /** Aborted when the requesting connection closes: nobody will read the answer. */
  readonly signal: AbortSignal;
}

/**
 * One handler per command of shared's `socketCommands` catalog. Each gets the command's validated
 * params and returns its result, which the server checks against the catalog before writing it;
 * a thrown error becomes an `ok: false` line with its wire error.
 */
export type SocketHandlers = {
  [C in SocketCommandName]: (params: SocketParams<C>, call: SocketCall) => Promise<SocketResult<C>>;
};

/**
 * The catalog seen command by command: indexed with a generic command, its schemas stay tied to
 * that command's params and result types (the object itself is shared's, checked on assignment).
 */
const catalog: {
  [C in SocketCommandName]: {
    params: z.ZodType<SocketParams<C>>;
    result: z.ZodType<SocketResult<C>>;
  };
} = socketCommands;

/** Every request line: its id and command; the other fields are the command's params. */
const Envelope = z.looseObject({ id: SocketRequestId, cmd: z.string() });
/** Just the id, to answer a line that is otherwise wrong under its own id. */
const IdOnly = z.looseObject({ id: SocketRequestId });

function isCommand(cmd: string): cmd is SocketCommandName {
  return Object.hasOwn(socketCommands, cmd);
}

function badRequest(id: number | null, message: string): SocketResponse {
  return { id, ok: false, error: { code: ErrorCode.BadRequest, message, retryable: false } };
}

/**
 * Turns one request line into its response line. Exported for tests: malformed JSON, an unknown
 * command or params that fail the command's schema give a typed `bad_request` error (with the
 * request's id when it had one); a result that fails its schema gives `internal`.
 */
export async function answerLine(
  line: string,
  handlers: SocketHandlers,
  signal: AbortSignal = new AbortController().signal,
): Promise<SocketResponse> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return badRequest(null, "line is not valid JSON");
  }
  const envelope = Envelope.safeParse(raw);
  if (!envelope.success) {
    const id = IdOnly.safeParse(raw);
    return { id: id.success ? id.data.id : null, ok: false, error: toWireError(envelope.error) };
  }
  const { id, cmd, ...params } = envelope.data;
  if (!isCommand(cmd)) {
    return badRequest(
      id,
      `unknown command "${cmd}"; the commands are: ${Object.keys(socketCommands).join(", ")}`,
    );
  }
  try {
    return { id, ok: true, result: await dispatch(cmd, params, handlers, { signal }) };
  } catch (e) {
    return { id, ok: false, error: toWireError(e) };
  }
}

/** Parses the params with the command's schema, runs its handler, checks the result likewise. */
async function dispatch<C extends SocketCommandName>(
  cmd: C,
  rawParams: unknown,
  handlers: SocketHandlers,
  call: SocketCall,
): Promise<SocketResult<C>> {
  const spec = catalog[cmd];
  const params = spec.params.parse(rawParams);
  const result = spec.result.safeParse(await handlers[cmd](params, call));
  if (!result.success) {
    throw new HiveError(
      ErrorCode.Internal,
      `the harness's ${cmd} result does not match its schema: ${describeZodError(result.error)}`,
    );
  }
  return result.data;
}

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

/** Sends one command to the harness and resolves with its validated result. */
export type SocketCaller = <C extends SocketCommandName>(
  cmd: C,
  params: SocketParams<C>,
) => Promise<SocketResult<C>>;

export interface SocketRequestOptions {
  /** Give up after this long without an answer; default 200 s (a recv may wait 180). */
  timeoutMs?: number;
  clock?: Clock;
}

let nextId = 1;

/**
 * Sends one command over the socket on a fresh connection: the params are checked against the
 * command's schema before they go, the result after it comes. Throws {@link HiveError}: the
 * harness's typed error, `bad_request` for params that fail the schema, `unavailable` if nobody
 * listens, `timeout`, `internal` for an answer that fails its schema.
 */
export async function socketRequest<C extends SocketCommandName>(
  path: string,
  cmd: C,
  params: SocketParams<C>,
  opts: SocketRequestOptions = {},
): Promise<SocketResult<C>> {
  const spec = catalog[cmd];
  const checked = spec.params.safeParse(params);
  if (!checked.success) {
    throw new HiveError(ErrorCode.BadRequest, describeZodError(checked.error));
  }
  const id = nextId++;
  const raw = await exchange(path, id, { ...checked.data, id, cmd }, opts);
  const result = spec.result.safeParse(raw);
  if (!result.success) {
    throw new HiveError(
      ErrorCode.Internal,
      `the harness answered ${cmd} with a result that does not match its schema: ${describeZodError(result.error)}`,
    );
  }
  return result.data;
}

/** Writes one request line and resolves with the `result` of the answer with the same id. */
function exchange(
  path: string,
  id: number,
  req: object,
  opts: SocketRequestOptions,
): Promise<unknown> {
  const clock = opts.clock ?? systemClock;
  return new Promise<unknown>((resolve, reject) => {
    const c = createConnection(path);
    c.setEncoding("utf8");
    let settled = false;
    let cancelTimer: Cancel = () => {};
    const finish = (err: HiveError | null, value?: unknown): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      c.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    cancelTimer = clock.schedule(opts.timeoutMs ?? 200_000, () =>
      finish(new HiveError(ErrorCode.Timeout, `no answer on ${path}`)),
    );
    c.on("connect", () => c.write(`${JSON.stringify(req)}\n`));
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
      if (res.ok && res.id === id) finish(null, res.result);
      else if (!res.ok && (res.id === id || res.id === null)) finish(HiveError.fromWire(res.error));
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
