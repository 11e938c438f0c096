import { join } from "node:path";
import { ErrorCode, HiveError } from "@hyperhive/shared";
import type { SlotHold } from "./claude-slot.js";
import { hasSession } from "./files.js";
import { endNote } from "./invocation.js";
import type { TurnLive } from "./live.js";
import { resultKind } from "./stream.js";
import { CANCELLED_NOTE, type SessionRunDeps } from "./turn-runner.js";

/**
 * The operator's `/compact`: `claude --continue` with the prompt `/compact`, on an idle agent,
 * shown as a live turn of its own (no `turn_start`, since no message drives it: a first `note`,
 * claude's stream, a `turn_end`) with state `compacting`, then `idle`.
 */
export class Compactor {
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly o: SessionRunDeps) {}

  /**
   * Starts compacting now and returns the live turn id it runs as; the rest shows live. Refused
   * (`conflict`) unless the agent is idle with a session to compact.
   */
  start(): string {
    const { o } = this;
    if (o.signal.aborted) throw new HiveError(ErrorCode.Unavailable, "the harness is stopping");
    const state = o.state.current;
    if (state !== "idle" || o.slot.busy) {
      throw new HiveError(
        ErrorCode.Conflict,
        `the agent is ${state ?? "starting"}; compact it when it is idle`,
      );
    }
    if (!hasSession(join(o.stateDir, ".claude"))) {
      throw new HiveError(ErrorCode.Conflict, "nothing to compact: the agent has no session yet");
    }
    const hold = o.slot.tryTake();
    if (!hold) throw new HiveError(ErrorCode.Conflict, "a claude run holds the session");
    const live = o.live.turn(o.clock.now());
    hold.setTurn(live.turnId);
    this.#running = this.#run(live, hold)
      .catch((e: unknown) => o.log.error({ err: e }, "compaction failed"))
      .finally(() => hold.release());
    return live.turnId;
  }

  /** Settles once the compaction in progress (if any) has ended; for a stopping harness. */
  settled(): Promise<void> {
    return this.#running;
  }

  async #run(live: TurnLive, hold: SlotHold): Promise<void> {
    const { o } = this;
    live.note("compacting the session (asked by the operator)");
    o.state.set("compacting");
    // claude ends a compaction it could not do (too little history) with a successful result; it
    // says so only in its status event.
    let failed: string | undefined;
    const inv = await o.claude.invoke({
      prompt: "/compact",
      model: o.model.effective,
      continueSession: true,
      signal: AbortSignal.any([o.signal, hold.cancelled]),
      onEvent: (ev) => {
        live.stream(ev);
        if (ev.type === "system" && ev.subtype === "status" && ev.compact_result === "failed") {
          failed = `compaction failed: ${String(ev.compact_error ?? "claude did not say why")}`;
        }
      },
      onNote: (text) => live.note(text),
    });
    hold.setTurn(undefined);
    if (o.signal.aborted) {
      live.turnEnd({ ok: false, result: "crashed", note: "harness stopping" });
      return;
    }
    o.log.info({ outcome: inv.outcome }, "compacted session (operator)");
    if (hold.cancelled.aborted && inv.outcome !== "ok") {
      live.note(`compaction ${CANCELLED_NOTE}`);
      live.turnEnd({ ok: false, result: "cancelled", note: CANCELLED_NOTE });
    } else if (failed !== undefined && inv.outcome === "ok") {
      live.turnEnd({ ok: false, result: "error", note: failed });
    } else {
      const note = endNote(inv);
      live.turnEnd({
        ok: inv.outcome === "ok",
        result: resultKind(inv.outcome, false),
        ...(note === undefined ? {} : { note }),
      });
    }
    o.state.set("idle");
  }
}
