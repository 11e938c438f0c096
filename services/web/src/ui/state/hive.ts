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
import { EventStream } from "../lib/stream.js";

/** An agent as the pages show it: the registry's record and the note of its last state change. */
export type AgentView = AgentInfo & {
  /** Why it is in its state, when the state event said (e.g. "Not logged in"). */
  readonly note?: string | undefined;
};

/** The hive as the pages see it: kept live from `/api/events` (a snapshot, then events). */
export interface Hive {
  /** Every agent, the manager first, then by name; null until the first load. */
  readonly agents: ReadonlySignal<readonly AgentView[] | null>;
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

/**
 * Loads only the newest of overlapping reloads: each call supersedes the ones still in flight, so
 * an older answer arriving late never overwrites a newer one.
 */
function latest<T>(load: () => Promise<T>, apply: (v: T) => void, fail: (e: unknown) => void) {
  let generation = 0;
  return async (): Promise<void> => {
    const mine = ++generation;
    try {
      const v = await load();
      if (mine === generation) apply(v);
    } catch (e) {
      if (mine === generation) fail(e);
    }
  };
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
  const updateAgent = (name: string, change: (a: AgentView) => AgentView) => {
    const current = byName.value;
    const a = current?.get(name);
    if (!current || !a) {
      void reloadAgents();
      return;
    }
    byName.value = new Map(current).set(name, change(a));
  };

  const onSnapshot = (s: Snapshot) =>
    batch(() => {
      // A part that failed keeps what was shown before (a reconnect), with the reason beside it.
      if (s.agents) setAgents(s.agents);
      agentsProblem.value = s.errors.agents;
      if (s.inbox) inbox.value = s.inbox;
      inboxProblem.value = s.errors.inbox;
    });
  const onState = (e: AgentStateEvent) =>
    updateAgent(e.agent, (a) => ({ ...a, state: e.state, state_since: e.since, note: e.note }));
  const onLifecycle = (e: AgentLifecycleEvent) =>
    updateAgent(e.agent, (a) => {
      if (e.event === "started") return { ...a, running: true };
      if (e.event === "stopped" || e.event === "exited") return { ...a, running: false };
      return a;
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

  return {
    agents: computed(() => {
      const m = byName.value;
      return m ? [...m.values()].sort(byRoleThenName) : null;
    }),
    agentsProblem,
    inbox,
    inboxProblem,
    serviceEvents,
    stream,
  };
}
