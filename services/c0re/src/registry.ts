import { AgentName, AgentRole, AgentState, type Db, type Migration } from "@hyperhive/shared";
import { z } from "zod";

/** Schema of c0re's control database. */
export const migrations: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE agents (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL CHECK (role IN ('manager', 'agent')),
        created_at  INTEGER NOT NULL,
        -- whether c0re should keep it running (also across c0re restarts)
        desired     TEXT NOT NULL CHECK (desired IN ('running', 'stopped')),
        started_at  INTEGER,
        starts      INTEGER NOT NULL DEFAULT 0,
        state       TEXT NOT NULL,
        state_since INTEGER NOT NULL
      ) STRICT;
    `,
  },
];

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

  /** Every agent: the manager first, then by age. */
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
}
