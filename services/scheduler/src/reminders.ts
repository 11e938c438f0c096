import {
  type AgentName,
  bodyBytes,
  type Clock,
  ErrorCode,
  HiveError,
  MAX_REMINDER_AHEAD_SECONDS,
  OPERATOR,
  type OperatorRemindersRequest,
  type Reminder,
  type ReminderCounts,
  type ReminderId,
  type RemindersResponse,
  type RemindRequest,
} from "@hyperhive/shared";
import type { Deliverer } from "./delivery.js";
import type { ReminderEvents } from "./events.js";
import { checkPending, type Limits, type RateLimiter } from "./limits.js";
import { MAX_TEXT_BYTES, textFits } from "./message.js";
import type { Page, ReminderStore } from "./store.js";

/** An agent's own list holds at most this many. */
export const AGENT_LIST_LIMIT = 100;
/** The operator's list, unless it asks for another number (at most 1000). */
export const OPERATOR_LIST_LIMIT = 200;
/** A list reply stays under this many bytes of JSON (NATS's default payload cap is 1 MiB). */
const MAX_LIST_BYTES = 512 * 1024;

export interface RemindersOptions {
  store: ReminderStore;
  events: ReminderEvents;
  deliverer: Deliverer;
  limits: Limits;
  rate: RateLimiter;
  clock: Clock;
  /** The hive's agents (undefined while c0re has not said). */
  roster: () => ReadonlySet<string> | undefined;
}

/** When and how often: the `When` part of a remind request. */
type When = Pick<RemindRequest, "in_seconds" | "at" | "every_seconds">;

/**
 * What agents and the operator may do with reminders, checked and stored: set one (an agent for
 * itself, the operator for an agent on the roster), list, cancel, retry a failing one now,
 * count. Each change is committed (fsynced) before the reply, published as an event, and handed
 * to the {@link Deliverer}, which re-arms its timer.
 */
export class Reminders {
  readonly #o: RemindersOptions;

  constructor(o: RemindersOptions) {
    this.#o = o;
  }

  /**
   * `agent` sets a reminder for itself. Limits: its pending reminders (whoever set them) below
   * the cap, and a token from its bucket (the rate limits a looping agent).
   */
  remind(agent: AgentName, req: RemindRequest): Reminder {
    const { rate } = this.#o;
    const dueAt = this.#check(req);
    rate.check(agent);
    const r = this.#create(agent, agent, req, dueAt);
    rate.take(agent);
    return r;
  }

  /**
   * The operator sets a reminder for an agent on the roster. It counts against the agent's
   * pending cap (the cap bounds what lands in its inbox) but takes no token from its bucket: the
   * rate is there to stop a looping agent, and the operator's hand should not use up the agent's
   * own allowance, nor be refused because the agent used it.
   */
  remindFor(agent: AgentName, req: RemindRequest): Reminder {
    const dueAt = this.#check(req);
    const roster = this.#o.roster();
    if (roster === undefined) {
      throw new HiveError(
        ErrorCode.Unavailable,
        "the scheduler does not know the hive's agents yet (c0re has not told it); try again shortly",
      );
    }
    if (!roster.has(agent)) {
      const known = [...roster].sort().join(", ") || "none";
      throw new HiveError(ErrorCode.NotFound, `no agent named ${agent}; the agents are: ${known}`);
    }
    return this.#create(agent, OPERATOR, req, dueAt);
  }

  /** `agent`'s own reminders: pending ones soonest first; with `all`, then finished ones. */
  mine(agent: AgentName, all: boolean): RemindersResponse {
    return fit(this.#o.store.list({ owner: agent, all, limit: AGENT_LIST_LIMIT }));
  }

  /** Any agent's reminders, or one agent's, for the operator. */
  forOperator(req: OperatorRemindersRequest): RemindersResponse {
    const limit = req.limit ?? OPERATOR_LIST_LIMIT;
    return fit(this.#o.store.list({ owner: req.agent, all: req.all ?? false, limit }));
  }

  /** `agent` cancels one of its own pending reminders; anyone else's is `not_found`. */
  cancelOwn(agent: AgentName, id: ReminderId): Reminder {
    const r = this.#o.store.get(id);
    if (!r || r.owner !== agent) {
      throw new HiveError(ErrorCode.NotFound, `no reminder #${id} of yours`);
    }
    return this.#cancel(r);
  }

  /** The operator cancels any pending reminder. */
  cancelAny(id: ReminderId): Reminder {
    const r = this.#o.store.get(id);
    if (!r) throw new HiveError(ErrorCode.NotFound, `no reminder #${id}`);
    return this.#cancel(r);
  }

  /** The operator asks for a failing reminder to be tried again now. */
  retry(id: ReminderId): Reminder {
    const { store, events, deliverer, clock } = this.#o;
    const r = this.#pending(store.get(id), id);
    if (r.attempt_count === 0) {
      throw new HiveError(
        ErrorCode.Conflict,
        `reminder #${id} is not failing: it is due at ${new Date(r.due_at).toISOString()}`,
      );
    }
    // A try is on the way already: that is the retry.
    if (deliverer.sending(id)) return r;
    store.durably(() => store.retryNow(id, clock.now()));
    const after = events.changed(id)!;
    deliverer.changed();
    return after;
  }

  /** The counts of every agent that has had reminders. */
  counts(): ReminderCounts[] {
    return this.#o.store.allCounts();
  }

  /** The first due time of a request whose time and text are acceptable. */
  #check(req: When & { body: string }): number {
    const dueAt = dueTime(req, this.#o.clock.now());
    if (!textFits(req.body)) {
      throw new HiveError(
        ErrorCode.BodyTooLarge,
        `a reminder's text is ${bodyBytes(req.body)} bytes; at most ${MAX_TEXT_BYTES} bytes ` +
          "(its message adds notes of its own). Write the details to a file and put its path in " +
          "the reminder.",
      );
    }
    return dueAt;
  }

  /** Stores a checked reminder unless its owner's pending cap is reached. */
  #create(
    owner: AgentName,
    createdBy: string,
    req: When & { body: string },
    dueAt: number,
  ): Reminder {
    const { store, events, deliverer, limits, clock } = this.#o;
    const r = store.durably(() => {
      checkPending(owner, store.counts(owner).pending, limits, createdBy === owner);
      return store.insert({
        owner,
        body: req.body,
        createdBy,
        createdAt: clock.now(),
        dueAt,
        everySeconds: req.every_seconds ?? null,
      });
    });
    events.changed(r.id);
    deliverer.changed();
    return r;
  }

  #cancel(r: Reminder): Reminder {
    const { store, events, deliverer, clock } = this.#o;
    this.#pending(r, r.id);
    store.durably(() => store.cancel(r.id, clock.now()));
    const after = events.changed(r.id)!;
    deliverer.changed();
    return after;
  }

  /** `r` if it exists and is pending; else `not_found` or a `conflict` saying how it ended. */
  #pending(r: Reminder | undefined, id: ReminderId): Reminder {
    if (!r) throw new HiveError(ErrorCode.NotFound, `no reminder #${id}`);
    if (r.state !== "pending") {
      throw new HiveError(ErrorCode.Conflict, `reminder #${id} was ${r.state} already`);
    }
    return r;
  }
}

/** The first due time (unix ms) of a request: `in_seconds` from now, or `at` (not past, ≤ a year). */
export function dueTime(w: When, now: number): number {
  if (w.in_seconds !== undefined) return now + w.in_seconds * 1000;
  const at = Date.parse(w.at ?? "");
  if (Number.isNaN(at)) throw new HiveError(ErrorCode.BadRequest, `at: not a time: ${w.at}`);
  const nowIso = new Date(now).toISOString();
  if (at < now) {
    throw new HiveError(ErrorCode.BadRequest, `at: ${w.at} is in the past (it is ${nowIso} now)`);
  }
  if (at > now + MAX_REMINDER_AHEAD_SECONDS * 1000) {
    throw new HiveError(
      ErrorCode.BadRequest,
      `at: ${w.at} is more than ${MAX_REMINDER_AHEAD_SECONDS / 86_400} days ahead (it is ${nowIso} now)`,
    );
  }
  return at;
}

/** Cuts a list where its reply would pass {@link MAX_LIST_BYTES}. */
function fit(page: Page): RemindersResponse {
  let bytes = 0;
  const kept: Reminder[] = [];
  for (const r of page.reminders) {
    bytes += Buffer.byteLength(JSON.stringify(r));
    if (bytes > MAX_LIST_BYTES) return { reminders: kept, truncated: true };
    kept.push(r);
  }
  return { reminders: kept, truncated: page.truncated };
}
