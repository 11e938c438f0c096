import {
  DEFAULT_RECV_WAIT_SECONDS,
  type InboxMessage,
  type SocketMessage,
} from "@hyperhive/shared";
import { displaySender } from "../claude.js";
import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

/**
 * `recv`: lease the next message. Mid-turn it belongs to the turn that asked and is acked when
 * that turn ends; outside a turn it is acked once handed out. An answer whose caller or turn is
 * gone (claude died mid-call) is neither: nobody reads it, so the lease runs out and it comes again.
 */
export function recv(ctx: CommandContext): SocketHandlers["recv"] {
  return async (params, call) => {
    const turn = ctx.currentTurn();
    const r = await ctx.hive.recv(
      params.wait_seconds ?? DEFAULT_RECV_WAIT_SECONDS,
      ctx.leaseSeconds,
      ctx.signal,
    );
    const m = r.message;
    if (m) {
      if (call.signal.aborted || turn !== ctx.currentTurn()) {
        ctx.log.warn({ id: m.id }, "recv answered after its caller left; it will come again");
      } else if (turn) {
        turn.leases.add(m.id);
      } else {
        await ctx.hive.ack(m.id, ctx.signal);
      }
    }
    return { message: m ? shown(ctx.hive.agent, m) : null, pending: r.pending };
  };
}

/** A message as the agent's tools show it: a wake shows its label as the sender. */
function shown(agent: string, m: InboxMessage): SocketMessage {
  return {
    id: m.id,
    ...displaySender(agent, m),
    sent_at: m.sent_at,
    in_reply_to: m.in_reply_to,
    reply_to: m.reply_to,
    redelivered: m.redelivered,
  };
}
