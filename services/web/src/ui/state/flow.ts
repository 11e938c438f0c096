import { Recipient, type StoredMessage } from "@hyperhive/shared/contract";
import { batch, computed, type ReadonlySignal, signal } from "@preact/signals";
import { applyDelivery, type FlowNode, foldThreads } from "../../flow-model.js";
import { FlowEvents, streams } from "../../wire.js";
import { fetchHistory, type Problem, toProblem } from "../lib/api.js";
import { EventStream } from "../lib/stream.js";

/** Messages the flow page asks for each time "older" is pressed. */
export const OLDER_PAGE = 100;

/** The message flow as the flow page sees it: `/api/flow` (a snapshot, then events). */
export interface Flow {
  /** Whose mail (`?agent=`), or the whole hive's. */
  readonly agent: Recipient | undefined;
  /** Threads, latest activity first; null until the first load. */
  readonly threads: ReadonlySignal<readonly FlowNode[] | null>;
  /** How many messages are loaded. */
  readonly count: ReadonlySignal<number>;
  /** Every mailbox (an agent, the operator) that wrote or was written to in what is loaded. */
  readonly names: ReadonlySignal<readonly string[]>;
  /** Why the history (or an older page) could not be loaded, if it could not. */
  readonly problem: ReadonlySignal<Problem | null>;
  /** Whether there are older messages than those loaded. */
  readonly hasOlder: ReadonlySignal<boolean>;
  /** Loads the next older page of history (the same filter) below what is loaded. */
  older(): Promise<void>;
  readonly stream: EventStream<typeof FlowEvents>;
}

/** Opens the flow stream (of one recipient's mail, or the hive's) and folds it into threads. */
export function connectFlow(agent?: Recipient): Flow {
  const byId = signal<ReadonlyMap<number, StoredMessage> | null>(null);
  const nextBefore = signal<number | null>(null);
  const problem = signal<Problem | null>(null);
  const loadingOlder = signal(false);

  const put = (list: readonly StoredMessage[]) => {
    const next = new Map(byId.value ?? []);
    for (const m of list) next.set(m.id, m);
    byId.value = next;
  };

  const stream = new EventStream(streams.flow.url(agent), FlowEvents, { liveOn: "snapshot" })
    .on("snapshot", (s) =>
      batch(() => {
        // A reconnect starts over from its snapshot; a failed one keeps what was shown.
        if (s.messages) {
          byId.value = new Map(s.messages.map((m) => [m.id, m]));
          nextBefore.value = s.next_before_id;
        }
        problem.value = s.error;
      }),
    )
    // The stream sends a message after its snapshot: the newer word on it.
    .on("message", (m) => put([m]))
    .on("delivery", (ev) => {
      const m = byId.value?.get(ev.id);
      if (m === undefined) return;
      const changed = applyDelivery(m, ev);
      if (changed !== m) put([changed]);
    });

  const messages = computed(() => (byId.value ? [...byId.value.values()] : null));
  return {
    agent,
    threads: computed(() => (messages.value ? foldThreads(messages.value) : null)),
    count: computed(() => messages.value?.length ?? 0),
    names: computed(() => {
      const seen = new Set<string>();
      for (const m of messages.value ?? []) {
        // `system` and wake labels write, but have no mail of their own to show.
        if (Recipient.safeParse(m.from).success) seen.add(m.from);
        for (const r of m.receipts) seen.add(r.recipient);
      }
      return [...seen].sort();
    }),
    problem,
    hasOlder: computed(() => nextBefore.value !== null),
    async older() {
      const before = nextBefore.value;
      if (before === null || loadingOlder.value) return;
      loadingOlder.value = true;
      try {
        const page = await fetchHistory({
          ...(agent === undefined ? {} : { agent }),
          before_id: before,
          limit: OLDER_PAGE,
        });
        batch(() => {
          // What the stream brought meanwhile is newer than the page: it stays.
          const known = byId.value ?? new Map();
          put(page.messages.filter((m) => !known.has(m.id)));
          nextBefore.value = page.next_before_id;
          problem.value = null;
        });
      } catch (e) {
        problem.value = toProblem(e);
      } finally {
        loadingOlder.value = false;
      }
    },
    stream,
  };
}
