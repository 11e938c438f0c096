import * as z from "zod";
import { ModelName } from "./config.js";

/**
 * The operator's controls of one agent's turn loop (the dashboard's per-agent terminal, the
 * `hive model|compact|new-session|cancel` commands), on `hive.op.ctl.<agent>.<verb>`, answered by
 * that agent's harness. Their effects show live as state and live events.
 */

/** `.model`: the next turn (and every one after) uses this model, persisted across restarts. */
export const SetModelRequest = z.strictObject({ model: ModelName });
export type SetModelRequest = z.infer<typeof SetModelRequest>;
export const SetModelResponse = z.strictObject({
  model: ModelName,
  /** What it was. */
  previous: ModelName,
});
export type SetModelResponse = z.infer<typeof SetModelResponse>;

/** `.compact`: compact the session now (an idle agent only; state compacting, then idle). */
export const CompactRequest = z.strictObject({});
export const CompactResponse = z.strictObject({
  /** The live turn id the compaction runs as (its events come on `hive.live.<agent>`). */
  turn_id: z.string(),
});
export type CompactResponse = z.infer<typeof CompactResponse>;

/** `.new_session`: the next turn starts a fresh claude session (no --continue), once. */
export const NewSessionRequest = z.strictObject({});
export const NewSessionResponse = z.strictObject({ fresh_next_turn: z.literal(true) });
export type NewSessionResponse = z.infer<typeof NewSessionResponse>;

/**
 * `.cancel`: kill the running turn. Its message is not lost: the turn counts as failed (retried,
 * or after the last try handed to the operator, as failed turns are).
 */
export const CancelRequest = z.strictObject({});
export const CancelResponse = z.strictObject({
  /** False when no turn was running. */
  cancelled: z.boolean(),
  /** The turn that was cancelled. */
  turn_id: z.string().nullable(),
});
export type CancelResponse = z.infer<typeof CancelResponse>;
