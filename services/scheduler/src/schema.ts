import type { Migration } from "@hyperhive/shared";

/**
 * The scheduler's schema. A reminder is one row; `next_at` (generated) is when it is next tried:
 * its retry time after a failed try, else its due time. The one timer is armed for the smallest
 * `next_at` of the pending rows, which the partial index makes a single index probe however many
 * are pending. `owner_counts` keeps each agent's chip (pending, delivered, failing) exact through
 * triggers, so an event carries its owner's counts without counting 100,000 rows.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE reminders (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        owner             TEXT    NOT NULL,
        body              TEXT    NOT NULL,
        created_by        TEXT    NOT NULL,
        created_at        INTEGER NOT NULL,
        -- unix ms of the next occurrence (the last one, once delivered or cancelled)
        due_at            INTEGER NOT NULL,
        -- seconds between occurrences; NULL: once
        every_seconds     INTEGER,
        state             TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'delivered', 'cancelled')),
        delivered_count   INTEGER NOT NULL DEFAULT 0,
        last_delivered_at INTEGER,
        -- failed tries of the current occurrence, why the last one failed, when the next is
        attempt_count     INTEGER NOT NULL DEFAULT 0,
        last_error        TEXT,
        retry_at          INTEGER,
        cancelled_at      INTEGER,
        next_at           INTEGER GENERATED ALWAYS AS (coalesce(retry_at, due_at)) VIRTUAL
      ) STRICT;
      -- The timer's probe and the due scan: pending rows by when they are next tried.
      CREATE INDEX reminders_next ON reminders (next_at, id) WHERE state = 'pending';
      -- Lists: pending ones soonest first, finished ones newest first; for one agent or all.
      CREATE INDEX reminders_owner ON reminders (owner, state, due_at, id);
      CREATE INDEX reminders_pending_due ON reminders (due_at, id) WHERE state = 'pending';
      CREATE INDEX reminders_finished_due ON reminders (due_at, id) WHERE state != 'pending';

      CREATE TABLE owner_counts (
        owner     TEXT    PRIMARY KEY,
        pending   INTEGER NOT NULL DEFAULT 0,
        -- occurrences delivered, all time
        delivered INTEGER NOT NULL DEFAULT 0,
        -- pending with a failed try of the current occurrence
        failing   INTEGER NOT NULL DEFAULT 0
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER reminders_counted_insert AFTER INSERT ON reminders BEGIN
        INSERT INTO owner_counts (owner) VALUES (new.owner) ON CONFLICT (owner) DO NOTHING;
        UPDATE owner_counts SET
          pending   = pending + (new.state = 'pending'),
          delivered = delivered + new.delivered_count,
          failing   = failing + (new.state = 'pending' AND new.attempt_count > 0)
        WHERE owner = new.owner;
      END;
      CREATE TRIGGER reminders_counted_update AFTER UPDATE ON reminders BEGIN
        UPDATE owner_counts SET
          pending   = pending - (old.state = 'pending') + (new.state = 'pending'),
          delivered = delivered - old.delivered_count + new.delivered_count,
          failing   = failing - (old.state = 'pending' AND old.attempt_count > 0)
                              + (new.state = 'pending' AND new.attempt_count > 0)
        WHERE owner = new.owner;
      END;
      -- No trigger on DELETE: only finished reminders are deleted (the retention sweep), which
      -- leaves pending and failing as they are and delivered, an all-time count, too.
      -- The sweep's probe: finished reminders by when they finished.
      CREATE INDEX reminders_finished_at ON reminders (coalesce(cancelled_at, last_delivered_at))
        WHERE state != 'pending';

      -- This file's own tag, drawn when it is created: part of every delivery's client id, so
      -- the ids of a new file (a reset scheduler, ids from 1 again) never meet the broker's
      -- memory of an old one's as "duplicates".
      CREATE TABLE instance (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        tag TEXT    NOT NULL
      ) STRICT;
      INSERT INTO instance (id, tag) VALUES (1, lower(hex(randomblob(4))));

      -- c0re's latest roster: whose reminders may still be delivered (one row).
      CREATE TABLE roster (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        agents TEXT    NOT NULL, -- JSON array of names
        at     INTEGER NOT NULL
      ) STRICT;
    `,
  },
];
