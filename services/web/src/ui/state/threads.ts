import type { AgentName, OpenThread } from "@hyperhive/shared/contract";
import { type ReadonlySignal, signal } from "@preact/signals";
import { fetchThreads, type Problem, toProblem } from "../lib/api.js";
import { latest } from "../lib/latest.js";
import type { Hive } from "./hive.js";

/** One agent's open threads, as its page shows them. */
export interface Threads {
  /** Oldest first (what has waited longest leads); null until loaded. */
  readonly threads: ReadonlySignal<readonly OpenThread[] | null>;
  readonly problem: ReadonlySignal<Problem | null>;
}

/**
 * Keeps `agent`'s open threads (c0re's `hive.op.threads {agent}`, the list its
 * `get_open_threads` gets): loaded with each snapshot of the dashboard stream (the first, and
 * after a reconnect), and again on every `approval` or `question` event that may change it — one
 * the agent submitted, asked or owes; any at all on the manager's page, whose list is hive-wide.
 * No timer: nothing changes a thread but those events.
 */
export function connectThreads(agent: AgentName, hive: Hive): Threads {
  const threads = signal<readonly OpenThread[] | null>(null);
  const problem = signal<Problem | null>(null);
  const reload = latest(
    () => fetchThreads(agent),
    (r) => {
      threads.value = r.threads;
      problem.value = null;
    },
    (e) => {
      problem.value = toProblem(e);
    },
  );
  const hiveWide = () => hive.agents.peek()?.find((a) => a.name === agent)?.role === "manager";
  hive.stream
    .on("snapshot", () => void reload())
    .on("approval", (e) => {
      if (hiveWide() || e.approval.submitter === agent) void reload();
    })
    .on("question", (e) => {
      const q = e.question;
      if (hiveWide() || q.asker === agent || q.target === agent) void reload();
    });
  return { threads, problem };
}
