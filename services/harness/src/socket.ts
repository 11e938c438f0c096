import {
  describeZodError,
  ErrorCode,
  HiveError,
  type SocketCommandName,
  type SocketParams,
  SocketRequestId,
  type SocketResponse,
  type SocketResult,
  socketCommands,
  toWireError,
} from "@hyperhive/shared";
import { z } from "zod";

/**
 * The per-agent socket's protocol, over shared's `socketCommands` catalog: a request line is
 * `{id, cmd, ...params}`, its answer `{id, ok: true, result}` or `{id, ok: false, error}`. The
 * framing is `socket-server.ts`'s and `socket-client.ts`'s.
 */

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
export const commandSchemas: {
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

/** An `ok: false` line for a request that cannot be answered as asked. */
export function badRequest(id: number | null, message: string): SocketResponse {
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
  const spec = commandSchemas[cmd];
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
