import {
  type AgentName,
  type CancelResponse,
  type CompactResponse,
  type Logger,
  type NatsConnection,
  type NewSessionResponse,
  rpcs,
  type Service,
  type SetModelRequest,
  type SetModelResponse,
  serve,
  subjects,
} from "@hyperhive/shared";
import type { ClaudeSlot } from "./claude-slot.js";
import type { Compactor } from "./compaction.js";
import { markNewSession } from "./files.js";
import type { ModelChoice } from "./model.js";
import type { AgentStateReporter } from "./state.js";
import { CANCELLED_NOTE } from "./turn-runner.js";

/** The operator's controls of this agent's turn loop, one method per `hive.op.ctl.<me>.<verb>`. */
export interface Controls {
  model(req: SetModelRequest): SetModelResponse;
  compact(): CompactResponse;
  newSession(): NewSessionResponse;
  cancel(): CancelResponse;
}

/** What the controls act on: the loop's model choice, state, compactor and claude slot. */
export interface ControlsDeps {
  model: ModelChoice;
  state: AgentStateReporter;
  compactor: Compactor;
  slot: ClaudeSlot;
  stateDir: string;
  log: Logger;
}

/**
 * The controls' effects: `/model` persists the choice and says it at once in a state event;
 * `/compact` starts a compaction (idle only) and answers with its live turn id; `/new-session`
 * sets the one-shot marker; `/cancel` kills whatever claude runs (a turn or a compaction).
 */
export function operatorControls(d: ControlsDeps): Controls {
  return {
    model(req) {
      const r = d.model.set(req.model);
      d.state.republish();
      d.log.info(r, "model set by the operator");
      return r;
    },
    compact() {
      const turnId = d.compactor.start();
      d.log.info({ turnId }, "compacting (operator)");
      return { turn_id: turnId };
    },
    newSession() {
      markNewSession(d.stateDir);
      d.log.info("the next turn starts a new session (operator)");
      return { fresh_next_turn: true };
    },
    cancel() {
      const turnId = d.slot.cancel(CANCELLED_NOTE);
      d.log.info({ turnId }, turnId ? "cancelling (operator)" : "cancel: nothing runs");
      return { cancelled: turnId !== null, turn_id: turnId };
    },
  };
}

/**
 * Answers the operator's controls on `hive.op.ctl.<agent>.*` (queue group `harness`, so a second
 * harness of the same agent, were there one, would not act twice). Every payload is parsed with
 * its schema: a malformed one is a `bad_request` that changes nothing.
 */
export function serveControls(
  nc: NatsConnection,
  agent: AgentName,
  c: Controls,
  log: Logger,
): Service[] {
  const opts = { queue: "harness", log };
  const ctl = subjects.op.ctl;
  return [
    serve(nc, ctl.model(agent), rpcs.ctlModel, (req) => c.model(req), opts),
    serve(nc, ctl.compact(agent), rpcs.ctlCompact, () => c.compact(), opts),
    serve(nc, ctl.newSession(agent), rpcs.ctlNewSession, () => c.newSession(), opts),
    serve(nc, ctl.cancel(agent), rpcs.ctlCancel, () => c.cancel(), opts),
  ];
}
