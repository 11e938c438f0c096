import {
  AgentName,
  AgentRole,
  AgentState,
  type Db,
  ErrorCode,
  HiveError,
  ModelName,
  subjectToken,
} from "@hyperhive/shared";
import { z } from "zod";

/** Whether c0re keeps an agent running, also across c0re restarts. */
export const Desired = z.enum(["running", "stopped"]);
export type Desired = z.infer<typeof Desired>;

/** One row of the registry, as read back (parsed, so a hand-edited file cannot lie to us). */
export const AgentRow = z.object({
  name: AgentName,
  role: AgentRole,
  /** Unix ms of registration. */
  created_at: z.number().int(),
  desired: Desired,
  /** Unix ms of the last start, null if never started. */
  started_at: z.number().int().nullable(),
  /** Starts so far, automatic restarts included. */
  starts: z.number().int().nonnegative(),
  /** Last known state, and since when (unix ms). */
  state: AgentState,
  state_since: z.number().int(),
  /** The model its next turn uses, as its harness last said; null before it said. */
  model: ModelName.nullable(),
  /** Unix ms of the operator's destroy (a tombstone); null while active. */
  tombstoned_at: z.number().int().nullable(),
});
export type AgentRow = z.infer<typeof AgentRow>;

const AgentRows = z.array(AgentRow);

/** The agent registry: plain reads and writes on c0re's sqlite file. */
export class Registry {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(name: AgentName): AgentRow | undefined {
    const row: unknown = this.#db.prepare("SELECT * FROM agents WHERE name = ?").get(name);
    return row === undefined ? undefined : AgentRow.parse(row);
  }

  /** Every agent, tombstones included: the manager first, then by age. */
  list(): AgentRow[] {
    return AgentRows.parse(
      this.#db
        .prepare("SELECT * FROM agents ORDER BY role = 'manager' DESC, created_at, name")
        .all(),
    );
  }

  /** Adds an agent (wanted running, offline) if it is not there yet; returns whether it was added. */
  register(name: AgentName, role: AgentRole, now: number): boolean {
    const r = this.#db
      .prepare(
        `INSERT INTO agents (name, role, created_at, desired, state, state_since)
         VALUES (?, ?, ?, 'running', 'offline', ?) ON CONFLICT (name) DO NOTHING`,
      )
      .run(name, role, now, now);
    return r.changes === 1;
  }

  /**
   * Who calls on `hive.agent.<name>.<verb>`: the name the subject carries, and its row when it
   * names an active agent (not a tombstone). A token that is no agent name at all is a malformed
   * request (`bad_request`, as the broker answers it), not a stranger.
   */
  caller(subject: string): { name: AgentName; row: AgentRow | undefined } {
    const token = subjectToken(subject, 2) ?? "";
    const name = AgentName.safeParse(token);
    if (!name.success) {
      throw new HiveError(
        ErrorCode.BadRequest,
        `subject ${subject}: "${token}" is not a valid agent name`,
      );
    }
    const row = this.get(name.data);
    return { name: name.data, row: row?.tombstoned_at === null ? row : undefined };
  }

  /** The agents that are not tombstones, manager first. */
  active(): AgentRow[] {
    return this.list().filter((r) => r.tombstoned_at === null);
  }

  setDesired(name: AgentName, desired: Desired): void {
    this.#db.prepare("UPDATE agents SET desired = ? WHERE name = ?").run(desired, name);
  }

  recordStart(name: AgentName, at: number): void {
    this.#db
      .prepare("UPDATE agents SET started_at = ?, starts = starts + 1 WHERE name = ?")
      .run(at, name);
  }

  /** Stores a state; returns false (changing nothing) if the agent is unknown or it is the same. */
  setState(name: AgentName, state: AgentState, since: number): boolean {
    const r = this.#db
      .prepare(
        `UPDATE agents SET state = ?, state_since = ?
         WHERE name = ? AND (state != ? OR state_since != ?)`,
      )
      .run(state, since, name, state, since);
    return r.changes === 1;
  }

  /** Stores the model the agent's harness says its next turn uses. */
  setModel(name: AgentName, model: ModelName): void {
    this.#db.prepare("UPDATE agents SET model = ? WHERE name = ?").run(model, name);
  }

  /** Makes an agent a tombstone (kept stopped); returns false if it was one already. */
  tombstone(name: AgentName, at: number): boolean {
    const r = this.#db
      .prepare(
        `UPDATE agents SET tombstoned_at = ?, desired = 'stopped'
         WHERE name = ? AND tombstoned_at IS NULL`,
      )
      .run(at, name);
    return r.changes === 1;
  }

  /** Deletes an agent's row (a purge): the name is free again. */
  remove(name: AgentName): void {
    this.#db.prepare("DELETE FROM agents WHERE name = ?").run(name);
  }
}
