import type { Migration } from "@hyperhive/shared";

/** Schema of c0re's control database: the agent registry, the approvals queue and questions. */
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
  {
    version: 2,
    sql: `
      -- the model the agent's next turn uses, as its harness last said
      ALTER TABLE agents ADD COLUMN model TEXT;
      -- unix ms of the operator's destroy: a tombstone (kept until purged)
      ALTER TABLE agents ADD COLUMN tombstoned_at INTEGER;

      CREATE TABLE approvals (
        -- AUTOINCREMENT: an id is never given twice, even after the newest row is gone
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL CHECK (kind IN ('spawn', 'apply_commit')),
        submitter   TEXT NOT NULL,
        summary     TEXT NOT NULL,
        -- JSON, per kind (the shared Approval schema's details)
        details     TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'failed')),
        decided_at  INTEGER,
        decided_by  TEXT,
        note        TEXT
      ) STRICT;
      CREATE INDEX approvals_by_state ON approvals (state, id);
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE questions (
        -- AUTOINCREMENT: an id is never given twice, even after the newest row is gone
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        asker       TEXT NOT NULL,
        -- 'operator' or an agent
        target      TEXT NOT NULL,
        question    TEXT NOT NULL,
        -- JSON array of the option labels, as asked
        options     TEXT NOT NULL,
        multi       INTEGER NOT NULL CHECK (multi IN (0, 1)),
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER,
        state       TEXT NOT NULL CHECK (state IN ('open', 'answered', 'expired', 'cancelled')),
        answer      TEXT,
        answered_at INTEGER,
        answered_by TEXT,
        -- whether the target agent has the question in its inbox (the broker took the message);
        -- 1 from the start when there is no one to tell (the operator reads the dashboard)
        target_told INTEGER NOT NULL DEFAULT 0 CHECK (target_told IN (0, 1)),
        -- whether the asker has the outcome in its inbox; 1 when it needs no telling
        asker_told  INTEGER NOT NULL DEFAULT 0 CHECK (asker_told IN (0, 1))
      ) STRICT;
      CREATE INDEX questions_by_state ON questions (state, expires_at);
      CREATE INDEX questions_by_asker ON questions (asker, id);
    `,
  },
  {
    version: 4,
    sql: `
      -- whether the target agent has been told that a question it owed closed without its
      -- answer (expired, cancelled); 1 when there is nobody to tell
      ALTER TABLE questions ADD COLUMN
        withdrawn_told INTEGER NOT NULL DEFAULT 1 CHECK (withdrawn_told IN (0, 1));
    `,
  },
  {
    version: 5,
    sql: `
      -- the uid (and gid) each agent name runs as in its bwrap sandbox when c0re is root; kept
      -- past a purge so no other name ever gets the files a uid owned
      CREATE TABLE agent_uids (
        name TEXT PRIMARY KEY,
        uid  INTEGER NOT NULL UNIQUE
      ) STRICT;
    `,
  },
];
