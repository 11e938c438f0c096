import {
  type Db,
  decodeJson,
  ErrorReply,
  encodeJson,
  HiveError,
  InboxAnnouncement,
  type OperatorRemindersRequest,
  type OperatorRemindRequest,
  type Reminder,
  type ReminderCounts,
  type ReminderEvent,
  ReminderEvent as ReminderEventSchema,
  type RemindRequest,
  request,
  rpcs,
  subjects,
  type WireError,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import type { NatsConnection } from "@nats-io/transport-node";

/** Everything a subscription on a subject saw, parsed. */
export class Collector<T> {
  readonly seen: T[] = [];
  readonly #sub;

  constructor(nc: NatsConnection, subject: string, parse: (raw: unknown) => T) {
    this.#sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        this.seen.push(parse(decodeJson(msg.data)));
      },
    });
  }

  /** Waits until `n` have been seen; returns them all. */
  async count(n: number, what: string, timeoutMs = 10_000): Promise<T[]> {
    await waitUntil(() => this.seen.length >= n, { what: `${n} ${what}`, timeoutMs });
    return this.seen;
  }

  clear(): void {
    this.seen.length = 0;
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

/** Announcements of new mail for `agent` (the broker publishes one per message stored). */
export function inbox(nc: NatsConnection, agent: string): Collector<InboxAnnouncement> {
  return new Collector(nc, subjects.inbox(agent), (raw) => InboxAnnouncement.parse(raw));
}

/** `hive.events.reminders`. */
export function reminderEvents(nc: NatsConnection): Collector<ReminderEvent> {
  return new Collector(nc, subjects.events.reminders, (raw) => ReminderEventSchema.parse(raw));
}

/** Sends raw bytes (no client-side validation) and returns the decoded reply. */
export async function raw(
  nc: NatsConnection,
  subject: string,
  payload: string | Uint8Array | object,
): Promise<unknown> {
  const data =
    typeof payload === "string" || payload instanceof Uint8Array ? payload : encodeJson(payload);
  const reply = await nc.request(subject, data, { timeout: 5000 });
  return decodeJson(reply.data);
}

/** The `error` of a reply, or a failed assertion if the reply is not an error. */
export function wireError(reply: unknown): WireError {
  const parsed = ErrorReply.safeParse(reply);
  if (!parsed.success) throw new Error(`expected an error reply, got ${JSON.stringify(reply)}`);
  return parsed.data.error;
}

/** The error a promise rejects with, as a HiveError (a failed assertion if it resolves). */
export async function refusal(p: Promise<unknown>): Promise<HiveError> {
  try {
    await p;
  } catch (e) {
    if (HiveError.is(e)) return e;
    throw e;
  }
  throw new Error("expected the request to be refused");
}

/** Every row of the scheduler's tables, to compare before and after. */
export function snapshot(db: Db): unknown[] {
  return [
    ...db.prepare("SELECT * FROM reminders ORDER BY id").all(),
    ...db.prepare("SELECT * FROM owner_counts ORDER BY owner").all(),
  ];
}

/** The requests, as an agent's harness and the operator's dashboard make them. */
export function api(nc: NatsConnection) {
  return {
    remind: async (agent: string, req: RemindRequest): Promise<Reminder> =>
      (await request(nc, subjects.agent.remind(agent), rpcs.remind, req)).reminder,
    mine: (agent: string, all?: boolean) =>
      request(nc, subjects.agent.reminders(agent), rpcs.myReminders, all ? { all } : {}),
    cancel: async (agent: string, id: number): Promise<Reminder> =>
      (await request(nc, subjects.agent.cancelReminder(agent), rpcs.cancelReminder, { id }))
        .reminder,
    opList: (req: OperatorRemindersRequest = {}) =>
      request(nc, subjects.op.reminders, rpcs.opReminders, req),
    opRemind: async (req: OperatorRemindRequest): Promise<Reminder> =>
      (await request(nc, subjects.op.remind, rpcs.opRemind, req)).reminder,
    opCancel: async (id: number): Promise<Reminder> =>
      (await request(nc, subjects.op.cancelReminder, rpcs.opCancelReminder, { id })).reminder,
    opRetry: async (id: number): Promise<Reminder> =>
      (await request(nc, subjects.op.retryReminder, rpcs.opRetryReminder, { id })).reminder,
    counts: async (): Promise<ReminderCounts[]> =>
      (await request(nc, subjects.op.reminderCounts, rpcs.opReminderCounts, {})).counts,
  };
}

/** One agent's counts as the operator sees them (zeros for an agent without reminders). */
export async function countsOf(nc: NatsConnection, agent: string): Promise<ReminderCounts> {
  const all = await api(nc).counts();
  return all.find((c) => c.agent === agent) ?? { agent, pending: 0, delivered: 0, failing: 0 };
}
