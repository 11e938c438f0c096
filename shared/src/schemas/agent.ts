import * as z from "zod";
import { AgentName, Sender } from "../names.js";
import { MessageId } from "./broker.js";
import { ModelName } from "./config.js";

/** Where an agent's turn loop is. `offline` is set by c0re when its process is not running. */
export const AgentState = z.enum(["idle", "thinking", "compacting", "needs-login", "offline"]);
export type AgentState = z.infer<typeof AgentState>;

/** `hive.events.agent.<name>.state` event: the agent's state changed. */
export const AgentStateEvent = z.strictObject({
  agent: AgentName,
  state: AgentState,
  /** Unix ms of the change. */
  since: z.number().int(),
  /** Why, when it is worth saying (e.g. "Not logged in"). */
  note: z.string().optional(),
  /** The model the agent's next turn uses (said by its harness; c0re's `offline` has none). */
  model: ModelName.optional(),
});
export type AgentStateEvent = z.infer<typeof AgentStateEvent>;

/** What a turn's claude run came to. */
export const TurnResultKind = z.enum([
  "ok",
  "error",
  "needs_login",
  "crashed",
  "compacted_retry",
  /** The operator cancelled it (`/cancel`): a failed turn, retried as failed turns are. */
  "cancelled",
]);
export type TurnResultKind = z.infer<typeof TurnResultKind>;

const LiveBase = {
  agent: AgentName,
  /** Identifies the turn: `<agent>-<started_at>-<n>`. */
  turn_id: z.string().min(1),
  /** Position of this event within its turn, from 0. */
  seq: z.number().int().nonnegative(),
  /** Unix ms when published. */
  at: z.number().int(),
};

/**
 * One line of claude's `--output-format stream-json` output. Only `type` is relied on; the rest
 * is passed through to the dashboard as claude wrote it.
 */
export const ClaudeStreamEvent = z.looseObject({ type: z.string() });
export type ClaudeStreamEvent = z.infer<typeof ClaudeStreamEvent>;

/** `hive.live.<agent>` event: the live turn stream. */
export const LiveEvent = z.discriminatedUnion("kind", [
  z.strictObject({
    ...LiveBase,
    kind: z.literal("turn_start"),
    message: z.strictObject({
      id: MessageId,
      from: Sender,
      body: z.string(),
      redelivered: z.boolean(),
    }),
    /** Messages still waiting after this one. */
    pending: z.number().int().nonnegative(),
    model: z.string(),
  }),
  z.strictObject({ ...LiveBase, kind: z.literal("stream"), event: ClaudeStreamEvent }),
  z.strictObject({ ...LiveBase, kind: z.literal("note"), text: z.string() }),
  z.strictObject({
    ...LiveBase,
    kind: z.literal("turn_end"),
    ok: z.boolean(),
    result: TurnResultKind,
    note: z.string().optional(),
  }),
]);
export type LiveEvent = z.infer<typeof LiveEvent>;

/** `hive.turn.stats.<name>` event: one record per finished turn (its `agent` is the subject's). */
export const TurnStats = z.strictObject({
  agent: AgentName,
  turn_id: z.string(),
  /** The inbox message that woke the turn. */
  message_id: MessageId,
  wake_from: Sender,
  model: z.string(),
  started_at: z.number().int(),
  ended_at: z.number().int(),
  /** From claude's `result` event (ms spent in the API loop), or wall time if it had none. */
  duration_ms: z.number().nonnegative(),
  num_turns: z.number().int().nonnegative(),
  total_cost_usd: z.number().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_input_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative(),
  /** `modelUsage.<model>.contextWindow` from the result event, when claude reported it. */
  context_window: z.number().int().positive().nullable(),
  /** Count of `tool_use` blocks in the turn's assistant events. */
  tool_calls: z.number().int().nonnegative(),
  /** Tool name → count. */
  tool_call_breakdown: z.record(z.string(), z.number().int().nonnegative()),
  result: TurnResultKind,
  is_error: z.boolean(),
});
export type TurnStats = z.infer<typeof TurnStats>;
