import {
  AgentName,
  type Clock,
  type Db,
  HiveError,
  type Logger,
  type NatsConnection,
  parseEvent,
  type Roster,
  request,
  retry,
  retryPolicy,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { z } from "zod";

const StoredAgents = z.array(AgentName);

/** Asking c0re after a first try failed: every 2 s at most, until it answers. */
const ASK_POLICY = retryPolicy({ initialMs: 250, factor: 2, maxMs: 2000 });
/** How long one ask may take; c0re answers from memory. */
const ASK_TIMEOUT_MS = 2000;

export interface RosterOptions {
  nc: NatsConnection;
  db: Db;
  log: Logger;
  clock: Clock;
  /** Told the names a newer roster dropped (destroyed agents), after it is kept. */
  dropped?: (names: string[]) => void;
}

/**
 * Who is in the hive, as c0re last said (`hive.events.roster`, or its answer on
 * `hive.c0re.roster` at start): the operator may set reminders only for them, and a reminder
 * whose owner left is cancelled. Kept in the scheduler's sqlite, so a scheduler started while
 * c0re is down still knows; an older roster never replaces a newer one. (The same idea as the
 * broker's follower: services share the contract, not code.)
 */
export class RosterFollower {
  readonly #o: RosterOptions;
  readonly #get;
  readonly #put;
  #agents: ReadonlySet<string> | undefined;
  #at = -1;
  #sub: ReturnType<NatsConnection["subscribe"]> | undefined;
  #loop: Promise<void> | undefined;
  #asking: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(o: RosterOptions) {
    this.#o = o;
    this.#get = o.db.prepare<[], { agents: string; at: number }>(
      "SELECT agents, at FROM roster WHERE id = 1",
    );
    this.#put = o.db.prepare<[string, number]>(
      `INSERT INTO roster (id, agents, at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET agents = excluded.agents, at = excluded.at`,
    );
    const row = this.#get.get();
    if (row) {
      this.#agents = new Set(StoredAgents.parse(JSON.parse(row.agents)));
      this.#at = row.at;
    }
  }

  /** The hive's agents, or undefined while no roster was ever heard of. */
  get agents(): ReadonlySet<string> | undefined {
    return this.#agents;
  }

  /**
   * Follows roster events, and asks c0re once before returning (so a scheduler started beside a
   * running c0re goes by the current roster), then in the background until it answers.
   */
  async start(): Promise<void> {
    const { nc, log, clock } = this.#o;
    const sub = nc.subscribe(subjects.events.roster);
    this.#sub = sub;
    this.#loop = (async () => {
      for await (const m of sub) {
        const r = parseEvent(rpcs.roster.response, m, log);
        if (r) this.#set(r);
      }
    })();
    await nc.flush();
    const ask = () =>
      request(nc, subjects.c0re.roster, rpcs.roster, {}, { timeoutMs: ASK_TIMEOUT_MS });
    try {
      this.#set(await ask());
      return;
    } catch (e) {
      log.info({ err: e }, "c0re did not give the roster yet; asking again in the background");
    }
    this.#asking = retry(ask, {
      policy: ASK_POLICY,
      clock,
      signal: this.#stop.signal,
      retryable: (e) => HiveError.is(e) && e.retryable,
    }).then(
      (r) => this.#set(r),
      (e: unknown) => {
        if (!this.#stop.signal.aborted) log.warn({ err: e }, "could not ask c0re for the roster");
      },
    );
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#sub && !this.#sub.isClosed()) await this.#sub.drain();
    await this.#loop;
    await this.#asking;
  }

  #set(r: Roster): void {
    if (r.at < this.#at) return;
    const before = this.#agents;
    this.#at = r.at;
    this.#agents = new Set(r.agents);
    this.#put.run(JSON.stringify(r.agents), r.at);
    this.#o.log.debug({ agents: r.agents, at: r.at }, "roster");
    const gone = before ? [...before].filter((a) => !this.#agents?.has(a)) : [];
    if (gone.length > 0) this.#o.dropped?.(gone);
  }
}
