import {
  AgentLifecycleEvent,
  AgentStateEvent,
  ApprovalEvent,
  InboxAnnouncement,
  OPERATOR,
  QuestionEvent,
  ReminderEvent,
  request,
  rpcs,
  ServiceEvent,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { publicError } from "../errors.js";
import { isFailing } from "../reminder-model.js";
import { type RemindersSnapshot, SNAPSHOT_PENDING_LIMIT, streams } from "../wire.js";
import { holdback, pump } from "./forward.js";
import type { RouteDeps, WebApp } from "./types.js";

/** Why a part of a cold load failed, fit for the page; null when it did not. */
const failure = (r: PromiseSettledResult<unknown>) =>
  r.status === "rejected" ? publicError(r.reason) : null;

/** `hive.events.agent.<name>.…`: the agent named by the subject must be the one in the body. */
const agentMatches = (ev: { agent: string }, m: Msg) => subjectToken(m.subject, 3) === ev.agent;

/**
 * The reminders part of the cold load: every agent's counts, and the failing ones among the
 * pending (soonest due first: a failing one is overdue, so it comes early).
 */
async function loadReminders(nc: NatsConnection, timeoutMs: number): Promise<RemindersSnapshot> {
  const [counts, pending] = await Promise.all([
    request(nc, subjects.op.reminderCounts, rpcs.opReminderCounts, {}, { timeoutMs }),
    request(
      nc,
      subjects.op.reminders,
      rpcs.opReminders,
      { limit: SNAPSHOT_PENDING_LIMIT },
      { timeoutMs },
    ),
  ]);
  return { counts: counts.counts, failing: pending.reminders.filter(isFailing) };
}

/** The live streams (SSE); their event names and payloads are the wire's `streams` catalogs. */
export function eventRoutes(
  app: WebApp,
  { nc, log, timeoutMs, hub, clock, turns }: RouteDeps,
): void {
  app.get(streams.events.path, async (req, reply) => {
    const stream = hub.open(req, reply, streams.events.events);
    // Subscribe first, then cold-load: events that race the load are held back, not lost.
    const { later, release } = holdback();
    const always = () => true;
    pump(nc, log, stream, subjects.events.agentStateAll, AgentStateEvent, agentMatches, (ev) =>
      later(() => stream.send("state", ev)),
    );
    const lifecycle = subjects.events.agentLifecycleAll;
    pump(nc, log, stream, lifecycle, AgentLifecycleEvent, agentMatches, (ev) =>
      later(() => stream.send("lifecycle", ev)),
    );
    const mine = (ev: InboxAnnouncement) => ev.to === OPERATOR;
    pump(nc, log, stream, subjects.inbox(OPERATOR), InboxAnnouncement, mine, (ev) =>
      later(() => stream.send("inbox", ev)),
    );
    pump(nc, log, stream, subjects.events.approvals, ApprovalEvent, always, (ev) =>
      later(() => stream.send("approval", ev)),
    );
    pump(nc, log, stream, subjects.events.questions, QuestionEvent, always, (ev) =>
      later(() => stream.send("question", ev)),
    );
    // The counts are the owner's: an event whose counts name another agent is not to be trusted.
    const owners = (ev: ReminderEvent) => ev.reminder.owner === ev.counts.agent;
    pump(nc, log, stream, subjects.events.reminders, ReminderEvent, owners, (ev) =>
      later(() => stream.send("reminder", ev)),
    );
    const named = (ev: ServiceEvent, m: Msg) => subjectToken(m.subject, 3) === ev.service;
    pump(nc, log, stream, subjects.events.serviceAll, ServiceEvent, named, (ev) =>
      later(() => stream.send("service", ev)),
    );
    try {
      await nc.flush();
    } catch (e) {
      log.warn({ err: e }, "nats flush failed before cold load");
    }
    // Tombstones, decided approvals and closed questions too: the page shows them all.
    const [agents, messages, queue, asked, reminders] = await Promise.allSettled([
      request(nc, subjects.op.agents, rpcs.opAgents, { all: true }, { timeoutMs }),
      request(nc, subjects.op.inbox, rpcs.opInbox, {}, { timeoutMs }),
      request(nc, subjects.op.approvals, rpcs.opApprovals, { all: true }, { timeoutMs }),
      request(nc, subjects.op.questions, rpcs.opQuestions, { all: true }, { timeoutMs }),
      loadReminders(nc, timeoutMs),
    ]);
    stream.send("snapshot", {
      agents: agents.status === "fulfilled" ? agents.value.agents : null,
      inbox: messages.status === "fulfilled" ? messages.value.messages : null,
      approvals: queue.status === "fulfilled" ? queue.value.approvals : null,
      questions: asked.status === "fulfilled" ? asked.value.questions : null,
      reminders: reminders.status === "fulfilled" ? reminders.value : null,
      errors: {
        agents: failure(agents),
        inbox: failure(messages),
        approvals: failure(queue),
        questions: failure(asked),
        reminders: failure(reminders),
      },
      at: clock.now(),
    });
    release();
    return reply;
  });

  app.get(streams.live.path, { schema: { params: streams.live.params } }, async (req, reply) => {
    const name = req.params.name;
    const stream = hub.open(req, reply, streams.live.events);
    // The kept events and the later ones with nothing between: sent in this order, with no
    // await, so the page misses none and gets none twice.
    const following = turns.follow(
      name,
      (ev) => stream.send("live", ev),
      () => stream.end(),
    );
    stream.onEnd(() => following.unsubscribe());
    stream.send("history", { agent: name, events: following.events });
    stream.send("ready", { agent: name, at: clock.now() });
    return reply;
  });
}
