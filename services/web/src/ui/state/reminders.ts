import type { AgentName, Reminder, ReminderCounts, ReminderId } from "@hyperhive/shared/contract";
import { batch, computed, type ReadonlySignal, signal } from "@preact/signals";
import { isFailing, mergeReminders, reminderOrder } from "../../reminder-model.js";
import type { DashboardEvents } from "../../wire.js";
import { fetchReminders, type Problem, toProblem } from "../lib/api.js";
import { latest } from "../lib/latest.js";
import type { EventStream } from "../lib/stream.js";

/**
 * The hive's reminders as the pages see them: each agent's counts and every reminder the page has
 * come to know (the snapshot's failing ones, every `reminder` event, an agent page's list, the
 * replies to its actions). Kept from the dashboard's stream: no request of its own, ever.
 */
export interface Reminders {
  /**
   * Each agent's counts; null until a snapshot brought them (while the scheduler did not answer
   * the last one, until the stream's next snapshot), then kept by the events.
   */
  readonly counts: ReadonlySignal<ReadonlyMap<AgentName, ReminderCounts> | null>;
  /** Why the counts and failing reminders could not be loaded, if they could not. */
  readonly problem: ReadonlySignal<Problem | null>;
  /** Every reminder known, by id, each as far along as the page has heard. */
  readonly byId: ReadonlySignal<ReadonlyMap<ReminderId, Reminder>>;
  /** Each agent's failing reminders (pending, a failed try waiting for the next), oldest due first. */
  readonly failing: ReadonlySignal<ReadonlyMap<AgentName, readonly Reminder[]>>;
  /**
   * Takes reminders from a reply or a list. A copy behind the one known is not taken, so a late
   * reply never undoes what a later event brought (see `notBehind`).
   */
  note(rs: Iterable<Reminder>): void;
}

/** Keeps {@link Reminders} from the dashboard's stream. */
export function connectReminders(stream: EventStream<typeof DashboardEvents>): Reminders {
  const counts = signal<ReadonlyMap<AgentName, ReminderCounts> | null>(null);
  const problem = signal<Problem | null>(null);
  const byId = signal<ReadonlyMap<ReminderId, Reminder>>(new Map());
  const note = (rs: Iterable<Reminder>) => {
    byId.value = mergeReminders(byId.value, rs);
  };

  stream
    .on("snapshot", (s) =>
      batch(() => {
        problem.value = s.errors.reminders;
        // A failed load keeps what was shown before (a reconnect), with the reason beside it.
        if (s.reminders === null) return;
        counts.value = new Map(s.reminders.counts.map((c) => [c.agent, c]));
        // A fresh start: what failed before and is not failing now was missed while away.
        byId.value = new Map(s.reminders.failing.map((r) => [r.id, r]));
      }),
    )
    .on("reminder", (e) =>
      batch(() => {
        note([e.reminder]);
        // Unknown counts stay unknown: one agent's would make the others' look like zeros.
        if (counts.value !== null) {
          counts.value = new Map(counts.value).set(e.counts.agent, e.counts);
        }
      }),
    );

  return {
    counts,
    problem,
    byId,
    failing: computed(() => {
      const by = new Map<AgentName, Reminder[]>();
      for (const r of byId.value.values()) {
        if (isFailing(r)) by.set(r.owner, [...(by.get(r.owner) ?? []), r]);
      }
      for (const list of by.values()) list.sort(reminderOrder);
      return by;
    }),
    note,
  };
}

/** One agent's reminders, as its page lists them. */
export interface AgentReminders {
  /** Pending ones soonest first, then delivered and cancelled ones, latest first; null until loaded. */
  readonly list: ReadonlySignal<readonly Reminder[] | null>;
  /** True when the scheduler left some off (more than the list holds). */
  readonly truncated: ReadonlySignal<boolean>;
  readonly problem: ReadonlySignal<Problem | null>;
}

/**
 * Keeps `agent`'s reminders for its page: its whole list (`hive.op.reminders {agent, all}`) loaded
 * with each snapshot of the dashboard stream that has the reminders (the first, and after a
 * reconnect), then every
 * `reminder` event and action reply applied through {@link Reminders}: no reload per event.
 */
export function connectAgentReminders(
  agent: AgentName,
  reminders: Reminders,
  stream: EventStream<typeof DashboardEvents>,
): AgentReminders {
  const loaded = signal(false);
  const truncated = signal(false);
  const problem = signal<Problem | null>(null);
  const reload = latest(
    () => fetchReminders(agent),
    (r) =>
      batch(() => {
        reminders.note(r.reminders);
        truncated.value = r.truncated;
        loaded.value = true;
        problem.value = null;
      }),
    (e) => {
      problem.value = toProblem(e);
    },
  );
  // Registered after the store's own snapshot handler, so the list lands on its fresh start. A
  // snapshot without reminders says the scheduler did not answer: no doomed request.
  stream.on("snapshot", (s) => {
    if (s.reminders !== null) void reload();
  });
  return {
    list: computed(() => {
      if (!loaded.value) return null;
      return [...reminders.byId.value.values()]
        .filter((r) => r.owner === agent)
        .sort(reminderOrder);
    }),
    truncated,
    problem,
  };
}
