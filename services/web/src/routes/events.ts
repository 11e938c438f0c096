import {
  AgentLifecycleEvent,
  AgentStateEvent,
  ApprovalEvent,
  InboxAnnouncement,
  LiveEvent,
  type Logger,
  OPERATOR,
  parseEvent,
  request,
  rpcs,
  ServiceEvent,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { z } from "zod";
import { publicError } from "../errors.js";
import { streams } from "../wire.js";
import type { RouteDeps, WebApp } from "./types.js";

/**
 * Forwards the valid events of one subscription until it ends. An event that fails its schema,
 * or that `accept` refuses (its body names another agent than its subject), is dropped with a
 * warning. A failed subscription (a NATS permissions violation) ends the stream: it would
 * otherwise look live while nothing can arrive, and the rejection would be unhandled.
 */
function pump<T extends z.ZodType>(
  log: Logger,
  stream: { end(): void },
  sub: Subscription,
  schema: T,
  accept: (ev: z.infer<T>, msg: Msg) => boolean,
  forward: (ev: z.infer<T>) => void,
): void {
  void (async () => {
    try {
      for await (const m of sub) {
        const ev = parseEvent(schema, m, log);
        if (ev === null) continue;
        if (!accept(ev, m)) {
          log.warn({ subject: m.subject }, "dropped event whose subject does not match its body");
          continue;
        }
        forward(ev);
      }
    } catch (e) {
      log.warn({ err: e, subject: sub.getSubject() }, "subscription failed; ending the stream");
      stream.end();
    }
  })();
}

/** `hive.events.agent.<name>.…`: the agent named by the subject must be the one in the body. */
const agentMatches = (ev: { agent: string }, m: Msg) => subjectToken(m.subject, 3) === ev.agent;

/** The live streams (SSE); their event names and payloads are the wire's `streams` catalogs. */
export function eventRoutes(app: WebApp, { nc, log, timeoutMs, hub, clock }: RouteDeps): void {
  app.get(streams.events.path, async (req, reply) => {
    const stream = hub.open(req, reply, streams.events.events);
    // Subscribe first, then cold-load: events that race the load are held back, not lost.
    let held: Array<() => void> | null = [];
    const later = (send: () => void) => {
      if (held) held.push(send);
      else send();
    };
    const state = nc.subscribe(subjects.events.agentStateAll);
    const lifecycle = nc.subscribe(subjects.events.agentLifecycleAll);
    const inbox = nc.subscribe(subjects.inbox(OPERATOR));
    const approvals = nc.subscribe(subjects.events.approvals);
    const service = nc.subscribe(subjects.events.serviceAll);
    stream.onEnd(() => {
      for (const s of [state, lifecycle, inbox, approvals, service]) s.unsubscribe();
    });
    pump(log, stream, state, AgentStateEvent, agentMatches, (ev) =>
      later(() => stream.send("state", ev)),
    );
    pump(log, stream, lifecycle, AgentLifecycleEvent, agentMatches, (ev) =>
      later(() => stream.send("lifecycle", ev)),
    );
    pump(
      log,
      stream,
      inbox,
      InboxAnnouncement,
      (ev) => ev.to === OPERATOR,
      (ev) => later(() => stream.send("inbox", ev)),
    );
    pump(
      log,
      stream,
      approvals,
      ApprovalEvent,
      () => true,
      (ev) => later(() => stream.send("approval", ev)),
    );
    pump(
      log,
      stream,
      service,
      ServiceEvent,
      (ev, m) => subjectToken(m.subject, 3) === ev.service,
      (ev) => later(() => stream.send("service", ev)),
    );

    try {
      await nc.flush();
    } catch (e) {
      log.warn({ err: e }, "nats flush failed before cold load");
    }
    // Tombstones and decided approvals too: the page shows both.
    const [agents, messages, queue] = await Promise.allSettled([
      request(nc, subjects.op.agents, rpcs.opAgents, { all: true }, { timeoutMs }),
      request(nc, subjects.op.inbox, rpcs.opInbox, {}, { timeoutMs }),
      request(nc, subjects.op.approvals, rpcs.opApprovals, { all: true }, { timeoutMs }),
    ]);
    stream.send("snapshot", {
      agents: agents.status === "fulfilled" ? agents.value.agents : null,
      inbox: messages.status === "fulfilled" ? messages.value.messages : null,
      approvals: queue.status === "fulfilled" ? queue.value.approvals : null,
      errors: {
        agents: agents.status === "rejected" ? publicError(agents.reason) : null,
        inbox: messages.status === "rejected" ? publicError(messages.reason) : null,
        approvals: queue.status === "rejected" ? publicError(queue.reason) : null,
      },
      at: clock.now(),
    });
    const pending = held;
    held = null;
    for (const send of pending) send();
    return reply;
  });

  app.get(streams.live.path, { schema: { params: streams.live.params } }, async (req, reply) => {
    const name = req.params.name;
    const stream = hub.open(req, reply, streams.live.events);
    const sub = nc.subscribe(subjects.live(name));
    stream.onEnd(() => sub.unsubscribe());
    pump(
      log,
      stream,
      sub,
      LiveEvent,
      (ev) => ev.agent === name,
      (ev) => stream.send("live", ev),
    );
    try {
      await nc.flush();
    } catch (e) {
      log.warn({ err: e }, "nats flush failed");
    }
    // Subscribed on the server: from here on nothing published is missed.
    stream.send("ready", { agent: name, at: clock.now() });
    return reply;
  });
}
