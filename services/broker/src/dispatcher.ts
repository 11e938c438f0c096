import type { Cancel, Clock, DeliveryEvent, InboxMessage } from "@hyperhive/shared";
import type { BatchEffects } from "./commit-queue.js";
import type { MessageRow, MessageStore } from "./store.js";

/** From this many agents with new mail and a parked recv, their first leases are one statement. */
const BULK_LEASE_AGENTS = 8;

/** What a recv (or recv_batch) is answered with. */
export interface Delivered {
  /** Leased to the caller, oldest first; empty when the wait ran out. */
  messages: InboxMessage[];
  /** Receipts still deliverable to the caller after these. */
  pending: number;
}

/** One recv long-polling for mail. */
export interface ParkedRecv {
  readonly agent: string;
  /** Messages it takes at most (1 for recv). */
  readonly max: number;
  readonly leaseMs: number;
  /** Milliseconds it waits; 0 answers empty at once when nothing is deliverable. */
  readonly waitMs: number;
  resolve(d: Delivered): void;
  reject(e: unknown): void;
}

interface Parked extends ParkedRecv {
  cancelDeadline: Cancel;
}

export interface DispatcherOptions {
  store: MessageStore;
  clock: Clock;
  /** Asks for a batch soon (a lease ran out: someone parked may take the message now). */
  kick(): void;
  /** Publishes one receipt's change (after the commit that made it). */
  delivery(ev: DeliveryEvent): void;
}

/**
 * Hands mail to the recvs parked waiting for it. Each agent has one queue of parked recvs, served
 * first come first served, and a message wakes one of them, never all (no thundering herd: 2,000
 * recvs parked on one name cost one lease per message, not 2,000 wake-ups). Runs inside the
 * group commit: a batch marks the agents it gave new mail to, and {@link dispatch}, the last step
 * of that batch's transaction, leases to their first parked recvs, so a send and the lease it
 * causes share one commit. One timer per agent with parked recvs watches its earliest lease: when
 * that runs out, the message goes to the next parked recv.
 */
export class RecvDispatcher {
  readonly #o: DispatcherOptions;
  readonly #parked = new Map<string, Parked[]>();
  /** Agents whose deliverable mail may have changed since the last dispatch. */
  readonly #dirty = new Set<string>();
  readonly #leaseTimers = new Map<string, { at: number; cancel: Cancel }>();
  /** Leases tried for parked recvs (one per message handed out, plus one that finds none). */
  readonly stats = { leaseAttempts: 0 };

  constructor(o: DispatcherOptions) {
    this.#o = o;
  }

  /** How many recvs are parked for `agent`. */
  waiting(agent: string): number {
    return this.#parked.get(agent)?.length ?? 0;
  }

  /** Queues a recv (inside a batch); the batch's dispatch serves it if mail is deliverable. */
  park(r: ParkedRecv): void {
    let queue = this.#parked.get(r.agent);
    if (!queue) {
      queue = [];
      this.#parked.set(r.agent, queue);
    }
    const p: Parked = { ...r, cancelDeadline: () => {} };
    if (r.waitMs > 0) p.cancelDeadline = this.#o.clock.schedule(r.waitMs, () => this.#expire(p));
    queue.push(p);
    this.#dirty.add(r.agent);
  }

  /** `agent` may have new deliverable mail (a send, a release). */
  markDirty(agent: string): void {
    if (this.#parked.has(agent)) this.#dirty.add(agent);
  }

  /**
   * Answers every recv parked for `agent` empty (the harness that parked them is dead: their
   * reply subjects lead nowhere) — or for every agent, when `agent` is undefined (stopping).
   */
  dismiss(agent?: string): void {
    const agents = agent === undefined ? [...this.#parked.keys()] : [agent];
    const now = this.#o.clock.now();
    for (const a of agents) {
      const queue = this.#parked.get(a) ?? [];
      this.#parked.delete(a);
      this.#disarm(a);
      if (queue.length === 0) continue;
      const pending = this.#o.store.pending(a, now);
      for (const p of queue) {
        p.cancelDeadline();
        p.resolve({ messages: [], pending });
      }
    }
  }

  /**
   * The last step of a batch: leases deliverable mail to the first parked recvs of every agent
   * marked since the last one; answers a wait-0 recv that got nothing; re-arms lease timers.
   */
  dispatch(fx: BatchEffects): void {
    if (this.#dirty.size === 0) return;
    const { store, clock } = this.#o;
    const now = clock.now();
    // A broadcast leased to a thousand recipients is read once.
    const rows = new Map<number, MessageRow | undefined>();
    const row = (id: number) => {
      if (!rows.has(id)) rows.set(id, store.message(id));
      return rows.get(id);
    };
    const served: { p: Parked; got: InboxMessage[] }[] = [];
    const firsts = this.#leaseFirsts(now, row);
    for (const agent of this.#dirty) {
      const queue = this.#parked.get(agent);
      if (!queue) continue;
      // The bulk lease already looked for this agent's first recv: found one, or nothing.
      let bulk = firsts !== undefined;
      while (queue.length > 0) {
        const p = queue[0]!;
        const got: InboxMessage[] = [];
        if (bulk) {
          bulk = false;
          const first = firsts?.get(agent);
          if (first === undefined) break;
          got.push(first);
        }
        while (got.length < p.max) {
          this.stats.leaseAttempts++;
          const m = store.leaseNext(agent, now, Math.ceil(now + p.leaseMs), row);
          if (!m) break;
          got.push(m);
        }
        if (got.length === 0) break;
        queue.shift();
        p.cancelDeadline();
        served.push({ p, got });
      }
      // Nothing (more) deliverable: a recv that would not wait is answered empty.
      const waiting = queue.filter((p) => {
        if (p.waitMs > 0) return true;
        fx.afterCommit(() => p.resolve({ messages: [], pending: 0 }));
        return false;
      });
      if (waiting.length === 0) {
        this.#parked.delete(agent);
        this.#disarm(agent);
      } else {
        this.#parked.set(agent, waiting);
        this.#arm(agent, now);
      }
    }
    this.#dirty.clear();
    this.#answerServed(fx, served, now);
  }

  /**
   * After a broadcast many agents have new mail and a parked recv: their first recvs' first
   * messages are leased in one statement per lease length (usually one: recvs ask for the
   * default) rather than two per agent. Undefined for a few agents (each is leased on its own,
   * as is everything after its first message).
   */
  #leaseFirsts(
    now: number,
    row: (id: number) => MessageRow | undefined,
  ): Map<string, InboxMessage> | undefined {
    const byUntil = new Map<number, string[]>();
    let wanting = 0;
    for (const agent of this.#dirty) {
      const first = this.#parked.get(agent)?.[0];
      if (!first) continue;
      const until = Math.ceil(now + first.leaseMs);
      const agents = byUntil.get(until);
      if (agents) agents.push(agent);
      else byUntil.set(until, [agent]);
      wanting++;
    }
    if (wanting < BULK_LEASE_AGENTS) return undefined;
    this.stats.leaseAttempts += wanting;
    const firsts = new Map<string, InboxMessage>();
    for (const [until, agents] of byUntil) {
      for (const [agent, m] of this.#o.store.leaseFirstOf(agents, now, until, row)) {
        firsts.set(agent, m);
      }
    }
    return firsts;
  }

  /**
   * Answers the recvs a dispatch served, each with what is still deliverable after it: one count
   * per agent for the whole dispatch (one query for all of them, after a broadcast), plus what
   * the agent's later recvs in it took.
   */
  #answerServed(fx: BatchEffects, served: { p: Parked; got: InboxMessage[] }[], now: number) {
    if (served.length === 0) return;
    const left = this.#o.store.pendingOf([...new Set(served.map((s) => s.p.agent))], now);
    const pending: number[] = [];
    const later = new Map<string, number>();
    for (let i = served.length - 1; i >= 0; i--) {
      const { p, got } = served[i]!;
      const after = later.get(p.agent) ?? 0;
      pending[i] = (left.get(p.agent) ?? 0) + after;
      later.set(p.agent, after + got.length);
    }
    served.forEach(({ p, got }, i) => {
      this.#answer(fx, p, { messages: got, pending: pending[i] ?? 0 }, now);
    });
  }

  #answer(fx: BatchEffects, p: Parked, d: Delivered, now: number): void {
    fx.afterCommit(() => {
      p.resolve(d);
      for (const m of d.messages) {
        this.#o.delivery({
          id: m.id,
          recipient: p.agent,
          state: "leased",
          deliveries: m.delivery,
          at: now,
        });
      }
    });
    fx.afterRollback((e) => p.reject(e));
  }

  /** The wait of a parked recv ran out with nothing for it. */
  #expire(p: Parked): void {
    const queue = this.#parked.get(p.agent);
    const i = queue?.indexOf(p) ?? -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) {
      this.#parked.delete(p.agent);
      this.#disarm(p.agent);
    }
    p.resolve({ messages: [], pending: this.#o.store.pending(p.agent, this.#o.clock.now()) });
  }

  /** One timer per agent with parked recvs, for its earliest running lease. */
  #arm(agent: string, now: number): void {
    const at = this.#o.store.earliestLeaseExpiry(agent, now);
    const timer = this.#leaseTimers.get(agent);
    if (timer?.at === at) return;
    timer?.cancel();
    if (at === null) {
      this.#leaseTimers.delete(agent);
      return;
    }
    // +1 ms: a timer may fire a hair early, and a lease counts as run out only at lease_until.
    const cancel = this.#o.clock.schedule(at - now + 1, () => {
      this.#leaseTimers.delete(agent);
      this.markDirty(agent);
      this.#o.kick();
    });
    this.#leaseTimers.set(agent, { at, cancel });
  }

  #disarm(agent: string): void {
    this.#leaseTimers.get(agent)?.cancel();
    this.#leaseTimers.delete(agent);
  }
}
