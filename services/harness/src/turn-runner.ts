import { join } from "node:path";
import type { AgentState, Clock, InboxMessage, Logger, PreviousAction } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";
import type { ClaudeSlot, SlotHold } from "./claude-slot.js";
import { type CostLedger, hasSession, takeNewSession } from "./files.js";
import { type ClaudeInvoker, endNote, type Invocation } from "./invocation.js";
import type { LiveStream, TurnLive } from "./live.js";
import { type RetryHint, showMessage, wakePrompt } from "./message-text.js";
import type { ModelChoice } from "./model.js";
import type { AgentStateReporter } from "./state.js";
import { resultKind } from "./stream.js";
import { turnStats } from "./turn-stats.js";

/** Why a turn the operator cancelled ended: its live note, its error for the retry rules. */
export const CANCELLED_NOTE = "cancelled by the operator";

/** What any claude run on the agent's session needs (a turn, an operator's compaction). */
export interface SessionRunDeps {
  claude: ClaudeInvoker;
  live: LiveStream;
  state: AgentStateReporter;
  /** Taken for the whole run: nothing else runs claude on the session meanwhile. */
  slot: ClaudeSlot;
  /** The model the run uses, read when it starts. */
  model: ModelChoice;
  /** claude's cwd and config dir. */
  stateDir: string;
  clock: Clock;
  log: Logger;
  /** Aborted when the harness stops: claude is killed and nothing is acked. */
  signal: AbortSignal;
}

/** What a turn needs besides: where its stats go and what its cost is counted against. */
export interface TurnRunnerOptions extends SessionRunDeps {
  hive: Pick<Hive, "agent" | "publishStats">;
  costs: CostLedger;
}

/** The message a turn is about. */
export interface TurnInput {
  msg: InboxMessage;
  /** Messages still waiting after it. */
  pending: number;
  /** What earlier turns on it already sent and asked (when it came again). */
  previous: PreviousAction[];
  /** Set when an earlier turn on this message failed: which try this is, and why. */
  retry?: RetryHint;
}

/** How a turn ended, as far as the loop cares: ack, retry later, or stop. */
export type TurnEnd =
  | { kind: "ok" }
  | { kind: "needs_login" }
  /** A failed turn; `cancelled` when the operator killed it (it counts as failed all the same). */
  | { kind: "error"; note: string; cancelled?: boolean }
  /** The harness is stopping: nothing is acked, no stats, the message comes again. */
  | { kind: "aborted" };

/**
 * Runs one turn on a message: `turn_start`, claude, and on "Prompt is too long" one compaction
 * (`/compact`) and one retry; then the stats and `turn_end`. The operator may cancel it (the
 * slot's cancel): claude is killed and the turn ends `cancelled`. Acking is the loop's business.
 */
export class TurnRunner {
  constructor(private readonly o: TurnRunnerOptions) {}

  async run(t: TurnInput): Promise<TurnEnd> {
    if (this.o.slot.busy) {
      this.o.log.info({ id: t.msg.id }, "a compaction holds the session; the turn waits for it");
    }
    const hold = await this.o.slot.take(this.o.signal);
    if (!hold) return { kind: "aborted" };
    try {
      return await this.#run(t, hold);
    } finally {
      hold.release();
    }
  }

  async #run(t: TurnInput, hold: SlotHold): Promise<TurnEnd> {
    const { o } = this;
    const startedAt = o.clock.now();
    const live = o.live.turn(startedAt);
    hold.setTurn(live.turnId);
    const signal = AbortSignal.any([o.signal, hold.cancelled]);
    const model = o.model.effective;
    const shown = showMessage(o.hive.agent, t.msg, t.previous);
    live.turnStart({
      message: { id: t.msg.id, from: shown.from, body: shown.body, redelivered: shown.redelivered },
      pending: t.pending,
      model,
    });
    o.state.set("thinking");
    const prompt = wakePrompt({ message: shown, pending: t.pending, retry: t.retry });

    const fresh = takeNewSession(o.stateDir);
    const cont = !fresh && hasSession(join(o.stateDir, ".claude"));
    const invoke = (p: string, c: boolean, s: AgentState) =>
      this.#invoke(live, { prompt: p, model, continueSession: c, signal }, s);
    let inv = await invoke(prompt, cont, "thinking");
    let compacted = false;
    if (inv.outcome === "prompt_too_long" && !signal.aborted) {
      o.state.set("compacting");
      const c = await invoke("/compact", true, "compacting");
      o.log.info({ outcome: c.outcome }, "compacted session");
      compacted = true;
      if (!signal.aborted) {
        o.state.set("thinking");
        inv = await invoke(prompt, true, "thinking");
      }
    }

    if (o.signal.aborted) {
      live.turnEnd({ ok: false, result: "crashed", note: "harness stopping" });
      return { kind: "aborted" };
    }

    // From here on the turn is over: a cancel now finds nothing to cancel. One that came as claude
    // finished well is too late to matter: the turn's work is done and is not tried again.
    hold.setTurn(undefined);
    const cancelled = hold.cancelled.aborted && inv.outcome !== "ok";
    const result = cancelled ? "cancelled" : resultKind(inv.outcome, compacted);
    const note = cancelled ? CANCELLED_NOTE : endNote(inv);
    if (cancelled) live.note(`turn ${CANCELLED_NOTE}`);
    const r = inv.acc.result;
    o.hive.publishStats(
      turnStats(inv, {
        agent: o.hive.agent,
        turnId: live.turnId,
        messageId: t.msg.id,
        wakeFrom: shown.from,
        model,
        startedAt,
        endedAt: o.clock.now(),
        result,
        costUsd: r ? o.costs.turnCost(inv.acc.sessionId, r.totalCostUsd) : 0,
      }),
    );
    const ok = !cancelled && inv.outcome === "ok";
    live.turnEnd({ ok, result, ...(note === undefined ? {} : { note }) });
    if (cancelled) return { kind: "error", note: CANCELLED_NOTE, cancelled: true };
    if (inv.outcome === "ok") return { kind: "ok" };
    if (inv.outcome === "needs_login") {
      o.state.set("needs-login", note ?? "Not logged in");
      return { kind: "needs_login" };
    }
    return { kind: "error", note: note ?? "turn failed" };
  }

  /** One claude run, streamed live; `state` is where claude's own status reports return to. */
  #invoke(
    live: TurnLive,
    call: { prompt: string; model: string; continueSession: boolean; signal: AbortSignal },
    state: AgentState,
  ): Promise<Invocation> {
    return this.o.claude.invoke({
      ...call,
      onEvent: (ev) => {
        live.stream(ev);
        // claude reports its own compactions (e.g. of a resumed session) as system/status.
        if (ev.type === "system" && ev.subtype === "status") {
          this.o.state.set(ev.status === "compacting" ? "compacting" : state);
        }
      },
      onNote: (text) => live.note(text),
    });
  }
}
