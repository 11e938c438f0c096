import { type Signal, useSignal } from "@preact/signals";
import { type Problem, toProblem } from "./api.js";

/** A button's request: whether it is in flight, what it came to, and its typed error. */
export interface Action {
  readonly busy: Signal<boolean>;
  /** What the last run came to, in a few words ("" before, and while one runs). */
  readonly status: Signal<string>;
  readonly problem: Signal<Problem | null>;
  /**
   * Runs `call` unless one is in flight; `done` turns its result into the status line. A failure
   * is kept as the problem (shown beside the button), never thrown.
   */
  run<T>(call: () => Promise<T>, done?: (r: T) => string): Promise<void>;
}

/** An {@link Action} held by the component that calls it. */
export function useAction(): Action {
  const busy = useSignal(false);
  const status = useSignal("");
  const problem = useSignal<Problem | null>(null);
  return {
    busy,
    status,
    problem,
    async run(call, done) {
      if (busy.value) return;
      busy.value = true;
      status.value = "";
      problem.value = null;
      try {
        const r = await call();
        status.value = done ? done(r) : "";
      } catch (e) {
        problem.value = toProblem(e);
      } finally {
        busy.value = false;
      }
    },
  };
}
