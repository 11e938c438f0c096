import { wakeBody } from "../claude.js";
import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

/**
 * `wake`: identity is the subject, so the harness cannot send as the label; it mails itself
 * `[wake from <label>] <body>` and shows the label as the sender when the message wakes a turn.
 * A wake also cuts a retry back-off short (e.g. the operator has just logged claude in).
 */
export function wake(ctx: CommandContext): SocketHandlers["wake"] {
  return async (params) => {
    const sent = await ctx.hive.send(
      { to: ctx.hive.agent, body: wakeBody(params.from, params.body) },
      ctx.signal,
    );
    ctx.nudge();
    return { id: sent.id };
  };
}
