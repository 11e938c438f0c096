import {
  ErrorCode,
  HiveError,
  type SocketCommandName,
  type SocketParams,
  type SocketResult,
} from "@hyperhive/shared";
import type { SocketCall, SocketHandlers } from "../src/socket.js";

/** A command a stand-in harness was asked, with its (validated) params. */
export interface Seen {
  cmd: SocketCommandName;
  params: unknown;
}

/**
 * Socket handlers for tests: each command records what it was asked in `seen`, then runs the
 * test's handler for it, or fails with `internal` ("not used in this test") when there is none.
 */
export function standInHandlers(seen: Seen[], given: Partial<SocketHandlers>): SocketHandlers {
  const rec =
    <C extends SocketCommandName>(cmd: C) =>
    async (params: SocketParams<C>, call: SocketCall): Promise<SocketResult<C>> => {
      seen.push({ cmd, params });
      const h: SocketHandlers[C] | undefined = given[cmd];
      if (!h) throw new HiveError(ErrorCode.Internal, `${cmd} is not used in this test`);
      return h(params, call);
    };
  return {
    send: rec("send"),
    recv: rec("recv"),
    recv_batch: rec("recv_batch"),
    ask_operator: rec("ask_operator"),
    ask: rec("ask"),
    answer: rec("answer"),
    list_my_asks: rec("list_my_asks"),
    cancel_ask: rec("cancel_ask"),
    get_open_threads: rec("get_open_threads"),
    remind: rec("remind"),
    list_my_reminders: rec("list_my_reminders"),
    cancel_reminder: rec("cancel_reminder"),
    wake: rec("wake"),
    whoami: rec("whoami"),
    request_spawn: rec("request_spawn"),
    kill: rec("kill"),
    start: rec("start"),
    restart: rec("restart"),
    update: rec("update"),
    request_apply_commit: rec("request_apply_commit"),
  };
}
