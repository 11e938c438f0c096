/** Holding the slot: one claude run (a turn, a compaction) on this agent's session. */
export interface SlotHold {
  /** Aborted when the operator cancels this run. */
  readonly cancelled: AbortSignal;
  /** Names the live turn the run shows as (what a cancel answers with); undefined: over, not cancellable. */
  setTurn(turnId: string | undefined): void;
  /** Lets the next run in; idempotent. */
  release(): void;
}

interface Holder extends SlotHold {
  turnId: string | undefined;
  cancel(reason: string): void;
}

/**
 * One claude invocation at a time on the agent's session: a message's turn and an operator's
 * compaction both take the slot first, so two never `--continue` the same session at once. The
 * slot also knows which live turn holds it, so the operator's cancel reaches whatever runs.
 */
export class ClaudeSlot {
  #holder: Holder | null = null;
  readonly #waiting: (() => void)[] = [];

  /** Whether a run holds the slot now. */
  get busy(): boolean {
    return this.#holder !== null;
  }

  /** Takes the slot if it is free; null when a run holds it. */
  tryTake(): SlotHold | null {
    if (this.#holder !== null) return null;
    const cancel = new AbortController();
    const holder: Holder = {
      cancelled: cancel.signal,
      turnId: undefined,
      setTurn: (id) => {
        holder.turnId = id;
      },
      cancel: (reason) => cancel.abort(new Error(reason)),
      release: () => {
        if (this.#holder !== holder) return;
        this.#holder = null;
        this.#waiting.shift()?.();
      },
    };
    this.#holder = holder;
    return holder;
  }

  /** Waits for the slot; null when `signal` aborts first (the harness is stopping). */
  async take(signal: AbortSignal): Promise<SlotHold | null> {
    for (;;) {
      if (signal.aborted) return null;
      const hold = this.tryTake();
      if (hold) return hold;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener("abort", wake);
          const i = this.#waiting.indexOf(wake);
          if (i >= 0) this.#waiting.splice(i, 1);
          resolve();
        };
        this.#waiting.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /**
   * Cancels the run holding the slot (its claude is killed; the run says how it ended). Returns
   * its turn id, or null when nothing runs. Cancelling it again while it ends is the same answer.
   */
  cancel(reason: string): string | null {
    const h = this.#holder;
    if (h?.turnId === undefined) return null;
    if (!h.cancelled.aborted) h.cancel(reason);
    return h.turnId;
  }
}
