import { join } from "node:path";
import type { AgentState, Clock, InboxMessage, Logger } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";
import { displaySender, wakePrompt } from "./claude.js";
import { type CostLedger, hasSession, readModel, takeNewSession } from "./files.js";
import { type ClaudeInvoker, endNote, type Invocation } from "./invocation.js";
import type { LiveStream, TurnLive } from "./live.js";
import type { AgentStateReporter } from "./state.js";
import { resultKind } from "./stream.js";
import { turnStats } from "./turn-stats.js";

/** What a turn needs: claude, the live stream and state it reports to, the stop signal. */
export interface TurnRunnerOptions {
  hive: Pick<Hive, "agent" | "publishStats">;
  claude: ClaudeInvoker;
  live: LiveStream;
  state: AgentStateReporter;
  costs: CostLedger;
  stateDir: string;
  /** Used when the state dir names no model. */
  defaultModel: string;
  clock: Clock;
  log: Logger;
  /** Aborted when the harness stops: claude is killed and the turn ends unacked. */
  signal: AbortSignal;
}

/** The message a turn is about. */
export interface TurnInput {
  msg: InboxMessage;
  /** Messages still waiting after it. */
  pending: number;
  /** Set when an earlier turn on this message failed: which try this is, and why. */
  retry?: { attempt: number; lastError: string };
}

/** How a turn ended, as far as the loop cares: ack, retry later, or stop. */
export type TurnEnd =
  | { kind: "ok" }
  | { kind: "needs_login" }
  | { kind: "error"; note: string }
  /** The harness is stopping: nothing is acked, no stats, the message comes again. */
  | { kind: "aborted" };

/**
 * Runs one turn on a message: `turn_start`, claude, and on "Prompt is too long" one compaction
 * (`/compact`) and one retry; then the stats and `turn_end`. Acking is the loop's business.
 */
export class TurnRunner {
  constructor(private readonly o: TurnRunnerOptions) {}

  async run(t: TurnInput): Promise<TurnEnd> {
    const { o } = this;
    const startedAt = o.clock.now();
    const live = o.live.turn(startedAt);
    const model = readModel(o.stateDir, o.defaultModel);
    const shown = displaySender(o.hive.agent, t.msg);
    live.turnStart({
      message: { id: t.msg.id, ...shown, redelivered: t.msg.redelivered },
      pending: t.pending,
      model,
    });
    o.state.set("thinking");
    const prompt = wakePrompt({
      ...shown,
      pending: t.pending,
      redelivered: t.msg.redelivered,
      ...(t.retry === undefined ? {} : { retry: t.retry }),
    });

    const fresh = takeNewSession(o.stateDir);
    const cont = !fresh && hasSession(join(o.stateDir, ".claude"));
    let inv = await this.#invoke(live, prompt, model, cont, "thinking");
    let compacted = false;
    if (inv.outcome === "prompt_too_long" && !o.signal.aborted) {
      o.state.set("compacting");
      const c = await this.#invoke(live, "/compact", model, true, "compacting");
      o.log.info({ outcome: c.outcome }, "compacted session");
      compacted = true;
      if (!o.signal.aborted) {
        o.state.set("thinking");
        inv = await this.#invoke(live, prompt, model, true, "thinking");
      }
    }

    if (o.signal.aborted) {
      live.turnEnd({ ok: false, result: "crashed", note: "harness stopping" });
      return { kind: "aborted" };
    }

    const result = resultKind(inv.outcome, compacted);
    const note = endNote(inv);
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
    live.turnEnd({ ok: inv.outcome === "ok", result, ...(note === undefined ? {} : { note }) });
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
    prompt: string,
    model: string,
    continueSession: boolean,
    state: AgentState,
  ): Promise<Invocation> {
    return this.o.claude.invoke({
      prompt,
      model,
      continueSession,
      signal: this.o.signal,
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
