import { OPERATOR, type Question, type QuestionId } from "@hyperhive/shared/contract";
import { computed, type ReadonlySignal, signal } from "@preact/signals";
import type { DashboardEvents } from "../../wire.js";
import type { Problem } from "../lib/api.js";
import type { EventStream } from "../lib/stream.js";

/** The hive's questions as the dashboard sees them: the snapshot's, then every `question` event. */
export interface Questions {
  /** Open questions put to the operator, oldest first (the order they were asked in); null until loaded. */
  readonly open: ReadonlySignal<readonly Question[] | null>;
  /** Questions put to the operator that were answered, expired or cancelled, the latest first. */
  readonly closed: ReadonlySignal<readonly Question[]>;
  /** Agents' questions to each other: open ones (oldest first), then closed ones (latest first). */
  readonly between: ReadonlySignal<readonly Question[]>;
  /** Why the questions could not be loaded, if they could not. */
  readonly problem: ReadonlySignal<Problem | null>;
  /**
   * Takes the question an answer or cancel was replied with. Its `question` event says the same
   * and wins: a reply only replaces a question still open here, so a late reply never undoes a
   * later change.
   */
  noteReply(q: Question): void;
}

const oldestFirst = (a: Question, b: Question) => a.id - b.id;
const latestClosedFirst = (a: Question, b: Question) =>
  (b.answered_at ?? 0) - (a.answered_at ?? 0) || b.id - a.id;

/** Keeps {@link Questions} from the dashboard's stream: no request of its own, ever. */
export function connectQuestions(stream: EventStream<typeof DashboardEvents>): Questions {
  const byId = signal<ReadonlyMap<QuestionId, Question> | null>(null);
  const problem = signal<Problem | null>(null);
  const put = (q: Question) => {
    byId.value = new Map(byId.value ?? []).set(q.id, q);
  };

  stream
    .on("snapshot", (s) => {
      // A failed load keeps what was shown before (a reconnect), with the reason beside it.
      if (s.questions) byId.value = new Map(s.questions.map((q) => [q.id, q]));
      problem.value = s.errors.questions;
    })
    .on("question", (e) => put(e.question));

  const all = computed(() => (byId.value ? [...byId.value.values()] : null));
  const mine = computed(() => all.value?.filter((q) => q.target === OPERATOR) ?? null);
  return {
    open: computed(() => mine.value?.filter((q) => q.state === "open").sort(oldestFirst) ?? null),
    closed: computed(() =>
      (mine.value ?? []).filter((q) => q.state !== "open").sort(latestClosedFirst),
    ),
    between: computed(() => {
      const theirs = (all.value ?? []).filter((q) => q.target !== OPERATOR);
      return [
        ...theirs.filter((q) => q.state === "open").sort(oldestFirst),
        ...theirs.filter((q) => q.state !== "open").sort(latestClosedFirst),
      ];
    }),
    problem,
    noteReply(q) {
      const known = byId.value?.get(q.id);
      if (known === undefined || known.state === "open") put(q);
    },
  };
}
