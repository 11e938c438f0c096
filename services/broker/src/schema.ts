import type { Migration } from "@hyperhive/shared";

/**
 * The broker's schema. A message is one row in `messages` (`recipient` is an agent, `operator`,
 * or `*` for a broadcast); where its delivery stands is one row per recipient in `receipts` (a
 * broadcast: one per agent that was on the roster, sender excluded), which carries the lease.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE messages (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        sender         TEXT    NOT NULL,
        recipient      TEXT    NOT NULL,
        body           TEXT    NOT NULL,
        sent_at        INTEGER NOT NULL,
        in_reply_to    INTEGER,
        client_id      TEXT,
        -- how many times recv has leased it out
        delivery_count INTEGER NOT NULL DEFAULT 0,
        -- unix ms; NULL = never leased. Deliverable when unacked and (NULL or <= now).
        lease_until    INTEGER,
        acked_at       INTEGER
      );
      CREATE UNIQUE INDEX messages_sender_client_id
        ON messages (sender, client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX messages_unacked ON messages (recipient, acked_at, id);
    `,
  },
  {
    version: 2,
    sql: `
      -- c0re's latest roster: who mail may be addressed to (one row).
      CREATE TABLE roster (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        agents TEXT    NOT NULL, -- JSON array of names
        at     INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    sql: `
      -- One receipt per recipient: the lease moves off the message row, so a broadcast is one
      -- message row and N receipts rather than N copies.
      CREATE TABLE receipts (
        message_id     INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        recipient      TEXT    NOT NULL,
        -- how many times recv has leased it out
        delivery_count INTEGER NOT NULL DEFAULT 0,
        -- unix ms; NULL = never leased. Deliverable when unacked and (NULL or <= now).
        lease_until    INTEGER,
        acked_at       INTEGER,
        PRIMARY KEY (message_id, recipient)
      ) STRICT, WITHOUT ROWID;
      -- recv's scan: only the open receipts, per recipient, oldest first.
      CREATE INDEX receipts_open ON receipts (recipient, message_id) WHERE acked_at IS NULL;
      -- history by agent: every message it received, broadcasts included.
      CREATE INDEX receipts_recipient ON receipts (recipient, message_id);
      INSERT INTO receipts (message_id, recipient, delivery_count, lease_until, acked_at)
        SELECT id, recipient, delivery_count, lease_until, acked_at FROM messages;
      DROP INDEX messages_unacked;
      ALTER TABLE messages DROP COLUMN delivery_count;
      ALTER TABLE messages DROP COLUMN lease_until;
      -- messages.acked_at stays: when the last receipt was acked (the retention sweep's key).
      CREATE INDEX messages_sender ON messages (sender, id);
      CREATE INDEX messages_in_reply_to ON messages (in_reply_to) WHERE in_reply_to IS NOT NULL;
      CREATE INDEX messages_done ON messages (acked_at) WHERE acked_at IS NOT NULL;
    `,
  },
  {
    version: 4,
    sql: `
      -- Receipts not acked yet, kept on the message: an ack knows at once whether it was the
      -- last (counting a broadcast's receipts on each ack made a thousand acks a million reads).
      ALTER TABLE messages ADD COLUMN open_receipts INTEGER NOT NULL DEFAULT 0;
      UPDATE messages SET open_receipts =
        (SELECT count(*) FROM receipts r WHERE r.message_id = messages.id AND r.acked_at IS NULL);
    `,
  },
];
