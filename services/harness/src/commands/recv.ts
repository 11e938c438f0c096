import {
  DEFAULT_RECV_WAIT_SECONDS,
  type InboxMessage,
  type SocketMessage,
} from "@hyperhive/shared";
import { showMessage } from "../message-text.js";
import type { SocketCall, SocketHandlers } from "../socket.js";
import type { CommandContext, RunningTurn } from "./mod.js";

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
    const got = r.message ? [r.message] : [];
    await keep(ctx, turn, call, got);
    return { message: shown(ctx, got)[0] ?? null, pending: r.pending };
  };
}

/** `recv_batch`: up to `max` messages in one go, each kept exactly as `recv` keeps one. */
export function recvBatch(ctx: CommandContext): SocketHandlers["recv_batch"] {
  return async (params, call) => {
    const turn = ctx.currentTurn();
    const r = await ctx.hive.recvBatch(
      params.max,
      params.wait_seconds ?? DEFAULT_RECV_WAIT_SECONDS,
      ctx.leaseSeconds,
      ctx.signal,
    );
    await keep(ctx, turn, call, r.messages);
    return { messages: shown(ctx, r.messages), pending: r.pending };
  };
}

/**
 * Messages handed out: into the asking turn (acked when it ends; what it does next is
 * remembered against them), or acked now when no turn asked. Dropped when the asker is gone.
 */
async function keep(
  ctx: CommandContext,
  turn: RunningTurn | undefined,
  call: SocketCall,
  got: readonly InboxMessage[],
): Promise<void> {
  if (got.length === 0) return;
  if (call.signal.aborted || turn !== ctx.currentTurn()) {
    ctx.log.warn(
      { ids: got.map((m) => m.id) },
      "recv answered after its caller left; it will come again",
    );
    return;
  }
  for (const m of got) {
    if (turn) {
      turn.leases.add(m.id);
      turn.memory.cover(m);
    } else {
      await ctx.hive.ack(m.id, ctx.signal);
    }
  }
}

/** As the agent sees them: a message that comes again says what earlier turns on it did. */
function shown(ctx: CommandContext, got: readonly InboxMessage[]): SocketMessage[] {
  return got.map((m) =>
    showMessage(ctx.hive.agent, m, m.redelivered ? ctx.actions.previous(m) : []),
  );
}
