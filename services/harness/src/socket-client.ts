import { createConnection } from "node:net";
import {
  type Cancel,
  type Clock,
  describeZodError,
  ErrorCode,
  HiveError,
  LineBuffer,
  type SocketCommandName,
  type SocketParams,
  SocketResponse,
  type SocketResult,
  systemClock,
} from "@hyperhive/shared";
import { commandSchemas } from "./socket.js";

/** Sends one command to the harness and resolves with its validated result. */
export type SocketCaller = <C extends SocketCommandName>(
  cmd: C,
  params: SocketParams<C>,
) => Promise<SocketResult<C>>;

/** How long to wait for the answer, on which clock. */
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
  const spec = commandSchemas[cmd];
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
