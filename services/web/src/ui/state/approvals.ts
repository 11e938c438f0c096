import type { Approval, ApprovalId } from "@hyperhive/shared/contract";
import { computed, type ReadonlySignal, signal } from "@preact/signals";
import type { DashboardEvents } from "../../wire.js";
import type { Problem } from "../lib/api.js";
import type { EventStream } from "../lib/stream.js";

/** The approvals queue as the dashboard sees it: the snapshot's, then every `approval` event. */
export interface Approvals {
  /** Waiting for the operator, oldest first (the order they were asked in); null until loaded. */
  readonly pending: ReadonlySignal<readonly Approval[] | null>;
  /** Decided (approved, denied, failed), the latest decision first. */
  readonly decided: ReadonlySignal<readonly Approval[]>;
  /** Why the queue could not be loaded, if it could not. */
  readonly problem: ReadonlySignal<Problem | null>;
  /**
   * Takes the approval a decision was answered with. The `approval` event says the same, and
   * wins: a reply only replaces an approval still pending here, so a late reply never undoes a
   * later change an event already brought (approved, then failed).
   */
  noteReply(a: Approval): void;
}

/** Keeps {@link Approvals} from the dashboard's stream: no request of its own, ever. */
export function connectApprovals(stream: EventStream<typeof DashboardEvents>): Approvals {
  const byId = signal<ReadonlyMap<ApprovalId, Approval> | null>(null);
  const problem = signal<Problem | null>(null);

  const put = (a: Approval) => {
    byId.value = new Map(byId.value ?? []).set(a.id, a);
  };

  stream
    .on("snapshot", (s) => {
      // A failed load keeps what was shown before (a reconnect), with the reason beside it.
      if (s.approvals) byId.value = new Map(s.approvals.map((a) => [a.id, a]));
      problem.value = s.errors.approvals;
    })
    .on("approval", (e) => put(e.approval));

  const all = computed(() => (byId.value ? [...byId.value.values()] : null));
  return {
    pending: computed(
      () => all.value?.filter((a) => a.state === "pending").sort((a, b) => a.id - b.id) ?? null,
    ),
    decided: computed(() =>
      (all.value ?? [])
        .filter((a) => a.state !== "pending")
        .sort((a, b) => (b.decided_at ?? 0) - (a.decided_at ?? 0) || b.id - a.id),
    ),
    problem,
    noteReply(a) {
      const known = byId.value?.get(a.id);
      if (known === undefined || known.state === "pending") put(a);
    },
  };
}
