import {
  BROADCAST,
  BroadcastAnnouncement,
  DeliveryEvent,
  InboxAnnouncement,
  request,
  rpcs,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import { publicError } from "../errors.js";
import { FlowFeed } from "../flow-feed.js";
import { streams } from "../wire.js";
import { pump } from "./forward.js";
import type { RouteDeps, WebApp } from "./types.js";

/** Every recipient's `hive.inbox.<to>` (shared's subjects name them one at a time). */
export const INBOX_ALL = "hive.inbox.*";

/** Messages in the flow's snapshot: the newest page of history. */
export const FLOW_PAGE = 100;

/**
 * `/api/flow`: the message flow (SSE). Subscribes to every inbox announcement, the broadcasts and
 * the delivery events first, then loads the newest page of history (`hive.op.history`), sends it
 * as the `snapshot`, then what came meanwhile and everything after, in order (see
 * {@link FlowFeed}). With `?agent=` only that recipient's mail (sent by it, to it, or a broadcast
 * it got) is loaded and announced, and only the delivery events of what this stream showed (or
 * of the agent's own copies).
 */
export function flowRoutes(app: WebApp, { nc, log, timeoutMs, hub, clock }: RouteDeps): void {
  app.get(
    streams.flow.path,
    { schema: { querystring: streams.flow.query } },
    async (req, reply) => {
      const agent = req.query.agent;
      const stream = hub.open(req, reply, streams.flow.events);
      /** With `?agent=`: the ids of the messages this stream sent (snapshot, then live). */
      const shown = new Set<number>();
      const feed = new FlowFeed({
        history: (q) => request(nc, subjects.op.history, rpcs.opHistory, q, { timeoutMs }),
        // The feed emits a message before any change of its receipts, so `shown` is up to date.
        emit: (out) => {
          if (out.event === "message") {
            if (agent !== undefined) shown.add(out.data.id);
            stream.send("message", out.data);
          } else if (
            agent === undefined ||
            out.data.recipient === agent ||
            shown.has(out.data.id)
          ) {
            stream.send("delivery", out.data);
          }
        },
        log,
      });
      const mine = (from: string, recipients: readonly string[]) =>
        agent === undefined || from === agent || recipients.includes(agent);

      stream.onEnd(() => feed.stop());
      pump(
        nc,
        log,
        stream,
        INBOX_ALL,
        InboxAnnouncement,
        // An inbox names its one recipient. Broadcasts come once, on hive.broadcast: one that
        // also wakes an agent's inbox is not a second message.
        (ev, m) => ev.to === BROADCAST || subjectToken(m.subject, 2) === ev.to,
        (ev) => {
          if (ev.to !== BROADCAST && mine(ev.from, [ev.to])) feed.message(ev, [ev.to]);
        },
      );
      pump(
        nc,
        log,
        stream,
        subjects.broadcast,
        BroadcastAnnouncement,
        (ev) => ev.to === BROADCAST,
        (ev) => {
          if (mine(ev.from, ev.recipients)) feed.message(ev, ev.recipients);
        },
      );
      pump(
        nc,
        log,
        stream,
        subjects.events.delivery,
        DeliveryEvent,
        () => true,
        (ev) => feed.delivery(ev),
      );

      try {
        await nc.flush();
      } catch (e) {
        log.warn({ err: e }, "nats flush failed before cold load");
      }
      const first = await request(
        nc,
        subjects.op.history,
        rpcs.opHistory,
        agent === undefined ? { limit: FLOW_PAGE } : { agent, limit: FLOW_PAGE },
        { timeoutMs },
      ).then(
        (page) => ({ messages: page.messages, next_before_id: page.next_before_id, error: null }),
        (e: unknown) => ({ messages: null, next_before_id: null, error: publicError(e) }),
      );
      if (agent !== undefined) for (const m of first.messages ?? []) shown.add(m.id);
      stream.send("snapshot", { ...first, at: clock.now() });
      feed.start();
      return reply;
    },
  );
}
