import { quote } from "../message-text.js";
import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

/**
 * `send`: mail someone (or `*`, every other agent) as this agent. A send made by a turn is
 * remembered against the turn's messages before claude hears it went, so if one of them comes
 * again the next turn is told it was already sent.
 */
export function send(ctx: CommandContext): SocketHandlers["send"] {
  return async (params) => {
    const turn = ctx.currentTurn();
    const r = await ctx.hive.send(params, ctx.signal);
    turn?.memory.record({ kind: "sent", id: r.id, to: params.to, quote: quote(params.body) });
    return r;
  };
}
