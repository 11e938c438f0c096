import {
  type AgentName,
  type Db,
  Reminder,
  type ReminderCounts,
  type ReminderId,
} from "@hyperhive/shared";

export { migrations } from "./schema.js";

/** What a new reminder is made of. */
export interface NewReminder {
  owner: AgentName;
  body: string;
  /** The owner, or `operator`. */
  createdBy: string;
  createdAt: number;
  dueAt: number;
  everySeconds: number | null;
}

/** A list and whether rows were left off it. */
export interface Page {
  reminders: Reminder[];
  truncated: boolean;
}

/** Which reminders a list holds. */
export interface ListQuery {
  /** One agent's; every agent's when undefined. */
  owner?: AgentName | undefined;
  /** Delivered and cancelled ones too (after the pending ones). */
  all: boolean;
  limit: number;
}

/** The row with `next_at` left off (it is derived). */
type Row = Omit<Reminder, "state"> & { state: string };

const COLUMNS = `id, owner, body, created_by, created_at, due_at, every_seconds, state,
  delivered_count, last_delivered_at, attempt_count, last_error, retry_at, cancelled_at`;

/**
 * The sql of reminders as prepared statements. Plain writes run with the connection's
 * `synchronous = NORMAL` (a delivery's record needs no fsync: lost to a power cut, the occurrence
 * is sent again with the same client id and the broker answers `duplicate`); what a caller is
 * told was done — a reminder set, cancelled, retried — goes through {@link durably}, which
 * commits with `FULL`.
 */
export class ReminderStore {
  /** This file's tag (see the schema): delivery client ids carry it. */
  readonly tag: string;
  readonly #db: Db;
  readonly #insert;
  readonly #get;
  readonly #due;
  readonly #earliest;
  readonly #pendingOf;
  readonly #finishedOf;
  readonly #pendingAll;
  readonly #finishedAll;
  readonly #delivered;
  readonly #failed;
  readonly #cancel;
  readonly #retryNow;
  readonly #counts;
  readonly #allCounts;
  readonly #pendingTotal;
  readonly #pendingIds;
  readonly #sweep;

  constructor(db: Db) {
    this.#db = db;
    db.pragma("synchronous = NORMAL");
    const instance = db.prepare<[], { tag: string }>("SELECT tag FROM instance").get();
    this.tag = instance!.tag;
    this.#insert = db.prepare<
      [string, string, string, number, number, number | null],
      { id: number }
    >(
      `INSERT INTO reminders (owner, body, created_by, created_at, due_at, every_seconds)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.#get = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM reminders WHERE id = ?`);
    this.#due = db.prepare<[number, number], Row>(
      `SELECT ${COLUMNS} FROM reminders
        WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`,
    );
    this.#earliest = db.prepare<[number], { id: number; next_at: number }>(
      `SELECT id, next_at FROM reminders WHERE state = 'pending' ORDER BY next_at, id LIMIT ?`,
    );
    this.#pendingOf = db.prepare<[string, number], Row>(
      `SELECT ${COLUMNS} FROM reminders
        WHERE owner = ? AND state = 'pending' ORDER BY due_at, id LIMIT ?`,
    );
    this.#finishedOf = db.prepare<[string, number], Row>(
      `SELECT ${COLUMNS} FROM reminders
        WHERE owner = ? AND state != 'pending' ORDER BY due_at DESC, id DESC LIMIT ?`,
    );
    this.#pendingAll = db.prepare<[number], Row>(
      `SELECT ${COLUMNS} FROM reminders WHERE state = 'pending' ORDER BY due_at, id LIMIT ?`,
    );
    this.#finishedAll = db.prepare<[number], Row>(
      `SELECT ${COLUMNS} FROM reminders
        WHERE state != 'pending' ORDER BY due_at DESC, id DESC LIMIT ?`,
    );
    // Guarded by the occurrence: a record that comes twice (or after a newer one) changes nothing.
    // A reminder cancelled while its occurrence was on the way still counts the delivery.
    this.#delivered = db.prepare<{ id: number; occ: number; at: number; next: number | null }>(
      `UPDATE reminders SET
          delivered_count = @occ, last_delivered_at = @at,
          attempt_count = 0, last_error = NULL, retry_at = NULL,
          due_at = CASE WHEN state = 'pending' AND @next IS NOT NULL THEN @next ELSE due_at END,
          state = CASE WHEN state = 'pending' AND @next IS NULL THEN 'delivered' ELSE state END
        WHERE id = @id AND delivered_count = @occ - 1`,
    );
    this.#failed = db.prepare<{ id: number; occ: number; error: string; retry: number }>(
      `UPDATE reminders SET attempt_count = attempt_count + 1, last_error = @error, retry_at = @retry
        WHERE id = @id AND state = 'pending' AND delivered_count = @occ - 1`,
    );
    this.#cancel = db.prepare<{ id: number; at: number; why: string | null }>(
      `UPDATE reminders SET state = 'cancelled', cancelled_at = @at, retry_at = NULL,
          last_error = coalesce(@why, last_error)
        WHERE id = @id AND state = 'pending'`,
    );
    this.#retryNow = db.prepare<[number, number]>(
      `UPDATE reminders SET retry_at = ?
        WHERE id = ? AND state = 'pending' AND attempt_count > 0`,
    );
    this.#counts = db.prepare<[string], Omit<ReminderCounts, "agent">>(
      "SELECT pending, delivered, failing FROM owner_counts WHERE owner = ?",
    );
    this.#allCounts = db.prepare<[], ReminderCounts>(
      "SELECT owner AS agent, pending, delivered, failing FROM owner_counts ORDER BY owner",
    );
    this.#pendingTotal = db.prepare<[], { n: number | null }>(
      "SELECT sum(pending) AS n FROM owner_counts",
    );
    this.#pendingIds = db.prepare<[string], { id: number }>(
      "SELECT id FROM reminders WHERE owner = ? AND state = 'pending' ORDER BY id",
    );
    this.#sweep = db.prepare<[number, number]>(
      `DELETE FROM reminders WHERE id IN (
         SELECT id FROM reminders
          WHERE state != 'pending' AND coalesce(cancelled_at, last_delivered_at) < ? LIMIT ?)`,
    );
  }

  /** Runs `fn` in one transaction whose commit is fsynced before this returns. */
  durably<T>(fn: () => T): T {
    this.#db.pragma("synchronous = FULL");
    try {
      return this.#db.transaction(fn).immediate();
    } finally {
      this.#db.pragma("synchronous = NORMAL");
    }
  }

  insert(n: NewReminder): Reminder {
    const r = this.#insert.get(n.owner, n.body, n.createdBy, n.createdAt, n.dueAt, n.everySeconds);
    return this.get(r!.id)!;
  }

  get(id: ReminderId): Reminder | undefined {
    const row = this.#get.get(id);
    return row ? toReminder(row) : undefined;
  }

  /** Pending reminders to be tried by `horizon` (unix ms), earliest first. */
  due(horizon: number, limit: number): Reminder[] {
    return this.#due.all(horizon, limit).map(toReminder);
  }

  /** The `limit` pending reminders tried soonest: id and when. */
  earliest(limit: number): { id: number; next_at: number }[] {
    return this.#earliest.all(limit);
  }

  /** Pending ones soonest first, then (with `all`) finished ones newest first. */
  list(q: ListQuery): Page {
    const take = q.limit + 1;
    const rows =
      q.owner === undefined ? this.#pendingAll.all(take) : this.#pendingOf.all(q.owner, take);
    if (q.all && rows.length < take) {
      const left = take - rows.length;
      rows.push(
        ...(q.owner === undefined
          ? this.#finishedAll.all(left)
          : this.#finishedOf.all(q.owner, left)),
      );
    }
    return { reminders: rows.slice(0, q.limit).map(toReminder), truncated: rows.length > q.limit };
  }

  /**
   * Records occurrence `occ` as delivered at `at`; `next` is the next due time of a repeating
   * one (null: it was the last). False when that occurrence was recorded already.
   */
  delivered(id: ReminderId, occ: number, at: number, next: number | null): boolean {
    return this.#delivered.run({ id, occ, at, next }).changes > 0;
  }

  /** Records a failed try of occurrence `occ`; the next try is at `retry`. */
  failed(id: ReminderId, occ: number, error: string, retry: number): boolean {
    return this.#failed.run({ id, occ, error, retry }).changes > 0;
  }

  /** Cancels a pending reminder; `why` replaces its last error (a cancel by the system). */
  cancel(id: ReminderId, at: number, why: string | null = null): boolean {
    return this.#cancel.run({ id, at, why }).changes > 0;
  }

  /** Moves a failing reminder's next try to `at`; false when it is not pending and failing. */
  retryNow(id: ReminderId, at: number): boolean {
    return this.#retryNow.run(at, id).changes > 0;
  }

  counts(owner: AgentName): ReminderCounts {
    const c = this.#counts.get(owner);
    return {
      agent: owner,
      pending: c?.pending ?? 0,
      delivered: c?.delivered ?? 0,
      failing: c?.failing ?? 0,
    };
  }

  /** The counts of every agent that has (had) reminders, by name. */
  allCounts(): ReminderCounts[] {
    return this.#allCounts.all();
  }

  /** Pending reminders of every agent. */
  pendingTotal(): number {
    return this.#pendingTotal.get()?.n ?? 0;
  }

  /** Deletes up to `limit` reminders that finished before `before`; returns how many. */
  sweep(before: number, limit: number): number {
    return this.#sweep.run(before, limit).changes;
  }

  /** The ids of `owner`'s pending reminders. */
  pendingIds(owner: AgentName): number[] {
    return this.#pendingIds.all(owner).map((r) => r.id);
  }
}

/** A row as the wire has it: checked, so a bad row fails here rather than in a reply. */
function toReminder(row: Row): Reminder {
  return Reminder.parse(row);
}
