import type { AgentName, TurnResultKind, TurnStats } from "@hyperhive/shared";
import type { Invocation } from "./invocation.js";

/** What the stats say about the turn besides claude's own numbers. */
export interface TurnFacts {
  agent: AgentName;
  turnId: string;
  messageId: number;
  /** Who woke the turn, as shown (a wake's label). */
  wakeFrom: string;
  model: string;
  startedAt: number;
  endedAt: number;
  result: TurnResultKind;
  /** This turn's own cost: claude's total is per session (see `CostLedger`). */
  costUsd: number;
}

/**
 * The `hive.turn.stats` record of a finished turn: numbers from claude's final `result` event
 * (zero when it had none), tool calls from its `assistant` events. Pure.
 */
export function turnStats(inv: Invocation, t: TurnFacts): TurnStats {
  const r = inv.acc.result;
  return {
    agent: t.agent,
    turn_id: t.turnId,
    message_id: t.messageId,
    wake_from: t.wakeFrom,
    model: t.model,
    started_at: t.startedAt,
    ended_at: t.endedAt,
    duration_ms: r?.durationMs ?? t.endedAt - t.startedAt,
    num_turns: r?.numTurns ?? 0,
    total_cost_usd: t.costUsd,
    input_tokens: r?.inputTokens ?? 0,
    output_tokens: r?.outputTokens ?? 0,
    cache_read_input_tokens: r?.cacheReadInputTokens ?? 0,
    cache_creation_input_tokens: r?.cacheCreationInputTokens ?? 0,
    context_window: r?.contextWindow ?? null,
    tool_calls: inv.acc.toolCalls,
    tool_call_breakdown: { ...inv.acc.breakdown },
    result: t.result,
    is_error: r?.isError ?? inv.outcome !== "ok",
  };
}
