import {
  type AgentName,
  type Approval,
  type ApprovalId,
  type Clock,
  ErrorCode,
  HiveError,
  type Logger,
} from "@hyperhive/shared";
import type { ApprovalsStore, Decision } from "./approvals-store.js";
import { firstLine } from "./driver.js";
import type { Events } from "./events.js";
import type { Greeter } from "./greeter.js";
import { type MetaRepo, shortSha } from "./meta-repo.js";
import type { Registry } from "./registry.js";
import type { RosterKeeper } from "./roster.js";

export type SpawnApproval = Extract<Approval, { kind: "spawn" }>;
export type ApplyCommitApproval = Extract<Approval, { kind: "apply_commit" }>;

/**
 * What carrying out an approved request means. Each resolves with the note the approval keeps
 * and the submitter is told after "approved; " (e.g. "alice is starting"), or rejects with why
 * it failed.
 */
export interface Executors {
  spawn(approval: SpawnApproval): Promise<string>;
  applyCommit(approval: ApplyCommitApproval): Promise<string>;
}

export interface ApprovalQueueOptions {
  store: ApprovalsStore;
  registry: Registry;
  meta: MetaRepo;
  /** The manager's clone of meta, where apply_commit refs are looked up. */
  cloneDir: string;
  executors: Executors;
  events: Events;
  roster: RosterKeeper;
  greeter: Greeter;
  clock: Clock;
  log: Logger;
}

/** The longest note an approval keeps (the approval schema's limit). */
const MAX_NOTE_CHARS = 2000;

/**
 * The approvals queue: the manager submits (spawn, apply_commit), the operator decides
 * (approve, deny). Every change is stored, then published on `hive.events.approvals`, in order;
 * the submitter is told the outcome in its inbox. A decision on anything but a pending approval
 * is refused and changes nothing.
 */
export class ApprovalQueue {
  readonly #o: ApprovalQueueOptions;
  /** Approvals being carried out: a second decision meanwhile is a conflict. */
  readonly #deciding = new Set<ApprovalId>();

  constructor(o: ApprovalQueueOptions) {
    this.#o = o;
  }

  /** Newest first; pending only unless `all`. */
  list(all: boolean): Approval[] {
    return this.#o.store.list(all);
  }

  /**
   * Queues a spawn of `name`. A name in use (an agent or a tombstone) or already waiting for a
   * spawn decision is a conflict. The name goes on the roster while it waits.
   */
  submitSpawn(submitter: AgentName, name: AgentName): Approval {
    const { store, registry, roster, clock } = this.#o;
    const row = registry.get(name);
    if (row && row.tombstoned_at !== null) {
      throw new HiveError(
        ErrorCode.Conflict,
        `${name} is a destroyed agent's name; it is free again once the operator purges it`,
      );
    }
    if (row) throw new HiveError(ErrorCode.Conflict, `there is an agent named ${name} already`);
    const waiting = store.list(false).find((a) => a.kind === "spawn" && a.details.name === name);
    if (waiting) {
      throw new HiveError(
        ErrorCode.Conflict,
        `a spawn of ${name} is waiting for the operator already (approval #${waiting.id})`,
      );
    }
    const now = clock.now();
    const a = store.add(
      { kind: "spawn", submitter, summary: `spawn ${name}`, details: { name } },
      now,
    );
    this.#o.events.approval(a);
    roster.changed(now);
    return a;
  }

  /**
   * Queues a config change: fetches `ref` from the manager's clone and checks it (see
   * {@link MetaRepo.propose}); the approval's details carry the diff. Refused with `bad_request`,
   * nothing queued, when the agent is not an active one or the commit does not pass.
   */
  async submitApplyCommit(submitter: AgentName, agent: AgentName, ref: string): Promise<Approval> {
    const { store, registry, meta, clock } = this.#o;
    const row = registry.get(agent);
    if (!row || row.tombstoned_at !== null) {
      throw new HiveError(ErrorCode.BadRequest, `there is no active agent named ${agent}`);
    }
    const p = await meta.propose(this.#o.cloneDir, ref, agent);
    const details = { agent, commit: p.commit, base: p.base, diff: p.diff };
    const a = store.add(
      { kind: "apply_commit", submitter, summary: p.summary, details },
      clock.now(),
    );
    this.#o.events.approval(a);
    return a;
  }

  /** Approves and carries out a pending approval; it ends approved, or failed with why. */
  async approve(id: ApprovalId): Promise<Approval> {
    const a = this.#pending(id);
    this.#deciding.add(id);
    try {
      let state: Decision["state"] = "approved";
      let note: string;
      try {
        note =
          a.kind === "spawn"
            ? await this.#o.executors.spawn(a)
            : await this.#o.executors.applyCommit(a);
      } catch (e) {
        this.#o.log.warn({ err: e, approval: id }, "an approved request failed");
        state = "failed";
        note = firstLine(e);
      }
      return this.#decide(a, {
        state,
        note: note.slice(0, MAX_NOTE_CHARS),
        at: this.#o.clock.now(),
      });
    } finally {
      this.#deciding.delete(id);
    }
  }

  /** Denies a pending approval; `reason` is kept and told to the submitter. */
  deny(id: ApprovalId, reason?: string): Approval {
    const a = this.#pending(id);
    return this.#decide(a, { state: "denied", note: reason ?? null, at: this.#o.clock.now() });
  }

  /** A pending approval that is not being decided: else `not_found` or `conflict`. */
  #pending(id: ApprovalId): Approval {
    const a = this.#o.store.get(id);
    if (!a) throw new HiveError(ErrorCode.NotFound, `no approval #${id}`);
    if (a.state !== "pending") {
      throw new HiveError(ErrorCode.Conflict, `approval #${id} was decided already (${a.state})`);
    }
    if (this.#deciding.has(id)) {
      throw new HiveError(ErrorCode.Conflict, `approval #${id} is being carried out`);
    }
    return a;
  }

  #decide(a: Approval, d: Decision): Approval {
    const done = this.#o.store.decide(a.id, d);
    if (!done) throw new HiveError(ErrorCode.Conflict, `approval #${a.id} was decided already`);
    this.#o.events.approval(done);
    if (done.kind === "spawn") this.#o.roster.changed(d.at);
    void this.#o.greeter.tell(done.submitter, outcomeMessage(done), `c0re-approval-${done.id}`);
    return done;
  }
}

/** What the submitter is told, e.g. `approval #7 spawn alice: approved; alice is starting`. */
export function outcomeMessage(a: Approval): string {
  const what =
    a.kind === "spawn"
      ? `spawn ${a.details.name}`
      : `config of ${a.details.agent} (${shortSha(a.details.commit)})`;
  const outcome =
    a.state === "approved"
      ? `approved; ${a.note ?? ""}`
      : a.state === "denied"
        ? `denied: ${a.note ?? "no reason given"}`
        : a.state === "failed"
          ? `failed: ${a.note ?? "no reason known"}`
          : "pending";
  return `approval #${a.id} ${what}: ${outcome}`;
}
