import {
  type AgentName,
  Approval,
  type ApprovalId,
  type ApprovalState,
  type Db,
  OPERATOR,
} from "@hyperhive/shared";
import { z } from "zod";

/** A new approval: what the submitter asked for, before it has an id. */
export type NewApproval = Pick<Approval, "kind" | "submitter" | "summary" | "details">;

/** A decision: its final state and note. */
export interface Decision {
  state: Exclude<ApprovalState, "pending">;
  note: string | null;
  at: number;
}

/** One row as stored: details still JSON text. Parsed, so a hand-edited file cannot lie to us. */
const ApprovalRow = z.object({
  id: z.number().int(),
  kind: z.string(),
  submitter: z.string(),
  summary: z.string(),
  details: z.string(),
  created_at: z.number().int(),
  state: z.string(),
  decided_at: z.number().int().nullable(),
  decided_by: z.string().nullable(),
  note: z.string().nullable(),
});

function toApproval(row: unknown): Approval {
  const r = ApprovalRow.parse(row);
  const details: unknown = JSON.parse(r.details);
  return Approval.parse({ ...r, details });
}

/** The approvals queue in c0re's sqlite file: plain reads and writes, rows checked on the way out. */
export class ApprovalsStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(id: ApprovalId): Approval | undefined {
    const row: unknown = this.#db.prepare("SELECT * FROM approvals WHERE id = ?").get(id);
    return row === undefined ? undefined : toApproval(row);
  }

  /** Newest first; pending ones only unless `all`. */
  list(all: boolean): Approval[] {
    const sql = all
      ? "SELECT * FROM approvals ORDER BY id DESC"
      : "SELECT * FROM approvals WHERE state = 'pending' ORDER BY id DESC";
    return this.#db.prepare(sql).all().map(toApproval);
  }

  /** Names waiting for a spawn decision. */
  pendingSpawns(): AgentName[] {
    return this.list(false).flatMap((a) => (a.kind === "spawn" ? [a.details.name] : []));
  }

  /** Stores a new pending approval and returns it with its id. */
  add(a: NewApproval, at: number): Approval {
    const r = this.#db
      .prepare(
        `INSERT INTO approvals (kind, submitter, summary, details, created_at, state)
         VALUES (?, ?, ?, ?, ?, 'pending')`,
      )
      .run(a.kind, a.submitter, a.summary, JSON.stringify(a.details), at);
    const stored = this.get(Number(r.lastInsertRowid));
    if (!stored) throw new Error("approval vanished after insert");
    return stored;
  }

  /**
   * Records a decision on a pending approval (by the operator); returns it, or undefined (nothing
   * changed) if it is not pending.
   */
  decide(id: ApprovalId, d: Decision): Approval | undefined {
    const r = this.#db
      .prepare(
        `UPDATE approvals SET state = ?, note = ?, decided_at = ?, decided_by = ?
         WHERE id = ? AND state = 'pending'`,
      )
      .run(d.state, d.note, d.at, OPERATOR, id);
    return r.changes === 1 ? this.get(id) : undefined;
  }
}
