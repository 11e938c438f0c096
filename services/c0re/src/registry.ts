import type { AgentName, AgentRole, AgentState, Db, Migration } from "@hyperhive/shared";

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

/** One row of the registry. */
export interface AgentRow {
  name: AgentName;
  role: AgentRole;
  created_at: number;
  desired: "running" | "stopped";
  started_at: number | null;
  starts: number;
  state: AgentState;
  state_since: number;
}

/** The agent registry: plain reads and writes on c0re's sqlite file. */
export class Registry {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(name: AgentName): AgentRow | undefined {
    return this.#db.prepare("SELECT * FROM agents WHERE name = ?").get(name) as
      | AgentRow
      | undefined;
  }

  list(): AgentRow[] {
    // The manager first, then by age.
    return this.#db
      .prepare("SELECT * FROM agents ORDER BY role = 'manager' DESC, created_at, name")
      .all() as AgentRow[];
  }

  /** Adds an agent if it is not there yet; returns whether it was added. */
  register(name: AgentName, role: AgentRole, now: number): boolean {
    const r = this.#db
      .prepare(
        `INSERT INTO agents (name, role, created_at, desired, state, state_since)
         VALUES (?, ?, ?, 'running', 'offline', ?) ON CONFLICT (name) DO NOTHING`,
      )
      .run(name, role, now, now);
    return r.changes === 1;
  }

  setDesired(name: AgentName, desired: AgentRow["desired"]): void {
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
