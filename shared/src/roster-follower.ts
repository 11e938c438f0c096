import type { NatsConnection } from "@nats-io/transport-node";
import * as z from "zod";
import type { Clock } from "./clock.js";
import { HiveError } from "./errors.js";
import type { Logger } from "./log.js";
import { AgentName } from "./names.js";
import { retry, retryPolicy } from "./retry.js";
import { parseEvent, request, rpcs } from "./rpc.js";
import type { Roster } from "./schemas/c0re.js";
import type { Db } from "./sqlite.js";
import { subjects } from "./subjects.js";

const StoredAgents = z.array(AgentName);

/** Asking c0re for the roster after a first try failed: every 2 s at most, until it answers. */
const ASK_POLICY = retryPolicy({ initialMs: 250, factor: 2, maxMs: 2000 });
/** How long one ask may take; c0re answers from memory. */
const ASK_TIMEOUT_MS = 2000;

/**
 * Who is in the hive, as c0re last said (`hive.events.roster`, or its answer on
 * `hive.c0re.roster` when the service starts): the broker mails only them, the scheduler delivers
 * only their reminders. Kept in the service's own sqlite (a one-row table its migrations create:
 * `roster (id INTEGER PRIMARY KEY CHECK (id = 1), agents TEXT NOT NULL, at INTEGER NOT NULL)`,
 * agents a JSON array of names), so a service
 * started while c0re is down still knows; an older roster never replaces a newer one.
 */
export class RosterFollower {
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #get;
  readonly #replace;
  #agents: ReadonlySet<string> | undefined;
  #at = -1;
  #sub: ReturnType<NatsConnection["subscribe"]> | undefined;
  #loop: Promise<void> | undefined;
  readonly #stop = new AbortController();
  #asking: Promise<void> | undefined;

  readonly #onLeft: ((agents: string[]) => void) | undefined;

  constructor(o: {
    nc: NatsConnection;
    db: Db;
    log: Logger;
    clock: Clock;
    /** Called with the names a newer roster no longer has (destroyed agents, denied spawns). */
    onLeft?: (agents: string[]) => void;
  }) {
    this.#nc = o.nc;
    this.#onLeft = o.onLeft;
    this.#log = o.log;
    this.#clock = o.clock;
    this.#get = o.db.prepare<[], { agents: string; at: number }>(
      "SELECT agents, at FROM roster WHERE id = 1",
    );
    const put = o.db.prepare<[string, number]>(
      `INSERT INTO roster (id, agents, at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET agents = excluded.agents, at = excluded.at`,
    );
    this.#replace = (r: Roster) => put.run(JSON.stringify(r.agents), r.at);
    const row = this.#get.get();
    if (row) this.#set({ agents: StoredAgents.parse(JSON.parse(row.agents)), at: row.at }, false);
  }

  /** The hive's agents, or undefined while no roster was ever heard of. */
  get agents(): ReadonlySet<string> | undefined {
    return this.#agents;
  }

  /**
   * Follows roster events and asks c0re for the current roster: once before returning (so a
   * service started beside a running c0re serves with it), then in the background until c0re
   * answers, if it did not.
   */
  async start(): Promise<void> {
    const sub = this.#nc.subscribe(subjects.events.roster);
    this.#sub = sub;
    this.#loop = (async () => {
      for await (const m of sub) {
        const r = parseEvent(rpcs.roster.response, m, this.#log);
        if (r) this.#set(r, true);
      }
    })();
    await this.#nc.flush();
    const ask = () =>
      request(this.#nc, subjects.c0re.roster, rpcs.roster, {}, { timeoutMs: ASK_TIMEOUT_MS });
    try {
      this.#set(await ask(), true);
      return;
    } catch (e) {
      this.#log.info(
        { err: e },
        "c0re did not give the roster yet; asking again in the background",
      );
    }
    this.#asking = retry(ask, {
      policy: ASK_POLICY,
      clock: this.#clock,
      signal: this.#stop.signal,
      retryable: (e) => HiveError.is(e) && e.retryable,
    }).then(
      (r) => this.#set(r, true),
      (e: unknown) => {
        if (!this.#stop.signal.aborted)
          this.#log.warn({ err: e }, "could not ask c0re for the roster");
      },
    );
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#sub && !this.#sub.isClosed()) await this.#sub.drain();
    await this.#loop;
    await this.#asking;
  }

  #set(r: Roster, persist: boolean): void {
    if (r.at < this.#at) return;
    const before = this.#agents;
    this.#at = r.at;
    this.#agents = new Set(r.agents);
    if (persist) this.#replace(r);
    const left = [...(before ?? [])].filter((a) => !this.#agents?.has(a));
    if (left.length > 0) this.#onLeft?.(left);
    this.#log.debug({ agents: r.agents, at: r.at }, "roster");
  }
}
