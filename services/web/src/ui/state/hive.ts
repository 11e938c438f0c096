import type {
  AgentInfo,
  AgentLifecycleEvent,
  AgentStateEvent,
  ServiceEvent,
  StoredMessage,
} from "@hyperhive/shared/contract";
import { batch, computed, type ReadonlySignal, signal } from "@preact/signals";
import { DashboardEvents, type Snapshot, streams } from "../../wire.js";
import { fetchAgents, fetchInbox, type Problem, toProblem } from "../lib/api.js";
import { latest } from "../lib/latest.js";
import { EventStream } from "../lib/stream.js";
import { type Approvals, connectApprovals } from "./approvals.js";
import { connectQuestions, type Questions } from "./questions.js";
import { connectReminders, type Reminders } from "./reminders.js";

/** An agent as the pages show it: the registry's record and the note of its last state change. */
export type AgentView = AgentInfo & {
  /** Why it is in its state, when the state event said (e.g. "Not logged in"). */
  readonly note?: string | undefined;
};

/** The hive as the pages see it: kept live from `/api/events` (a snapshot, then events). */
export interface Hive {
  /** Every active agent, the manager first, then by name; null until the first load. */
  readonly agents: ReadonlySignal<readonly AgentView[] | null>;
  /** Destroyed agents whose state dir is kept (until purged), the latest first. */
  readonly tombstones: ReadonlySignal<readonly AgentView[]>;
  /** Why the agents could not be loaded, if they could not. */
  readonly agentsProblem: ReadonlySignal<Problem | null>;
  /** The operator's inbox, newest first; null until the first load. */
  readonly inbox: ReadonlySignal<readonly StoredMessage[] | null>;
  readonly inboxProblem: ReadonlySignal<Problem | null>;
  /**
   * What `hive up` said about its services since the page opened, newest first (at most
   * {@link SERVICE_EVENTS_KEPT}): exits, restarts, give-ups.
   */
  readonly serviceEvents: ReadonlySignal<readonly ServiceEvent[]>;
  /** The approvals queue. */
  readonly approvals: Approvals;
  /** The hive's questions: the operator's to answer, and agents' to each other. */
  readonly questions: Questions;
  /** Reminder counts per agent, and the reminders known (failing ones, an agent page's). */
  readonly reminders: Reminders;
  /** The event stream (its status shows in the header). */
  readonly stream: EventStream<typeof DashboardEvents>;
}

/** Service events the dashboard keeps: enough to see a restart loop, not a log. */
export const SERVICE_EVENTS_KEPT = 20;

function byRoleThenName(a: AgentView, b: AgentView): number {
  const ra = a.role === "manager" ? 0 : 1;
  const rb = b.role === "manager" ? 0 : 1;
  return ra - rb || a.name.localeCompare(b.name);
}

/** Opens `/api/events` and keeps a {@link Hive} up to date from it. */
export function connectHive(): Hive {
  const byName = signal<ReadonlyMap<string, AgentView> | null>(null);
  const agentsProblem = signal<Problem | null>(null);
  const inbox = signal<readonly StoredMessage[] | null>(null);
  const inboxProblem = signal<Problem | null>(null);
  const serviceEvents = signal<readonly ServiceEvent[]>([]);

  const setAgents = (list: readonly AgentInfo[]) => {
    byName.value = new Map(list.map((a) => [a.name, a]));
  };
  const reloadAgents = latest(
    fetchAgents,
    (r) => {
      setAgents(r.agents);
      agentsProblem.value = null;
    },
    (e) => {
      agentsProblem.value = toProblem(e);
    },
  );
  const reloadInbox = latest(
    fetchInbox,
    (r) => {
      inbox.value = r.messages;
      inboxProblem.value = null;
    },
    (e) => {
      inboxProblem.value = toProblem(e);
    },
  );

  /** Applies `change` to a known agent; an agent we do not know yet means reloading the list. */
  const updateAgent = (name: string, change: (a: AgentView) => AgentView | null) => {
    const current = byName.value;
    const a = current?.get(name);
    if (!current || !a) {
      void reloadAgents();
      return;
    }
    const next = new Map(current);
    const changed = change(a);
    if (changed === null) next.delete(name);
    else next.set(name, changed);
    byName.value = next;
  };

  const onSnapshot = (s: Snapshot) =>
    batch(() => {
      // A part that failed keeps what was shown before (a reconnect), with the reason beside it.
      if (s.agents) setAgents(s.agents);
      agentsProblem.value = s.errors.agents;
      if (s.inbox) inbox.value = s.inbox;
      inboxProblem.value = s.errors.inbox;
    });
  // c0re's `offline` says no model: the chip keeps the one the harness said last.
  const onState = (e: AgentStateEvent) =>
    updateAgent(e.agent, (a) => ({
      ...a,
      state: e.state,
      state_since: e.since,
      note: e.note,
      model: e.model ?? a.model,
    }));
  // `created` names an agent not known yet, which reloads the list; the rest change it here.
  const onLifecycle = (e: AgentLifecycleEvent) =>
    updateAgent(e.agent, (a) => {
      switch (e.event) {
        case "started":
          return { ...a, running: true };
        case "stopped":
        case "exited":
          return { ...a, running: false };
        case "destroyed":
          return { ...a, running: false, tombstoned_at: e.at };
        case "purged":
          return null;
        default:
          return a;
      }
    });

  const stream = new EventStream(streams.events.path, DashboardEvents)
    .on("snapshot", onSnapshot)
    .on("state", onState)
    .on("lifecycle", onLifecycle)
    // An announcement carries only a preview: fetch the inbox for the whole message.
    .on("inbox", () => void reloadInbox())
    .on("service", (e) => {
      serviceEvents.value = [e, ...serviceEvents.value].slice(0, SERVICE_EVENTS_KEPT);
    });

  const all = computed(() => (byName.value ? [...byName.value.values()] : null));
  return {
    agents: computed(
      () => all.value?.filter((a) => a.tombstoned_at === null).sort(byRoleThenName) ?? null,
    ),
    tombstones: computed(() =>
      (all.value ?? [])
        .filter((a) => a.tombstoned_at !== null)
        .sort((a, b) => (b.tombstoned_at ?? 0) - (a.tombstoned_at ?? 0)),
    ),
    agentsProblem,
    inbox,
    inboxProblem,
    serviceEvents,
    approvals: connectApprovals(stream),
    questions: connectQuestions(stream),
    reminders: connectReminders(stream),
    stream,
  };
}
