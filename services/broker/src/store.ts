import type { Db, InboxMessage, Migration, StoredMessage } from "@hyperhive/shared";

/** The broker's schema. One row per message; the lease lives on the row (one recipient each). */
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
];

interface Row {
  id: number;
  sender: string;
  recipient: string;
  body: string;
  sent_at: number;
  in_reply_to: number | null;
  client_id: string | null;
  delivery_count: number;
  lease_until: number | null;
  acked_at: number | null;
}

/** What {@link MessageStore.insert} did. */
export interface InsertResult {
  id: number;
  sent_at: number;
  /** True when (sender, client_id) was already stored; nothing was written. */
  duplicate: boolean;
}

export interface NewMessage {
  from: string;
  to: string;
  body: string;
  clientId?: string | undefined;
  inReplyTo?: number | undefined;
  now: number;
}

/** What {@link MessageStore.ack} found. */
export type AckResult = "first" | "repeat" | "not_found";

/**
 * All sql the broker runs, as prepared statements. Every method is one synchronous sqlite
 * transaction: in this single-threaded process that makes each of them atomic with respect to
 * every other request, which is what keeps two concurrent recvs from leasing the same row.
 */
export class MessageStore {
  readonly #byClientId;
  readonly #insert;
  readonly #nextDeliverable;
  readonly #lease;
  readonly #countDeliverable;
  readonly #get;
  readonly #ackRow;
  readonly #extendRow;
  readonly #releaseAll;
  readonly #earliestLease;
  readonly #listFor;
  readonly #listForBefore;
  readonly #insertTx;
  readonly #leaseTx;
  readonly #extendTx;

  constructor(db: Db) {
    this.#byClientId = db.prepare<[string, string], Row>(
      "SELECT * FROM messages WHERE sender = ? AND client_id = ?",
    );
    this.#insert = db.prepare<
      [string, string, string, number, number | null, string | null],
      { id: number }
    >(
      `INSERT INTO messages (sender, recipient, body, sent_at, in_reply_to, client_id)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.#nextDeliverable = db.prepare<[string, number], Row>(
      `SELECT * FROM messages
        WHERE recipient = ? AND acked_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)
        ORDER BY id LIMIT 1`,
    );
    this.#lease = db.prepare<[number, number]>(
      "UPDATE messages SET lease_until = ?, delivery_count = delivery_count + 1 WHERE id = ?",
    );
    this.#countDeliverable = db.prepare<[string, number], { n: number }>(
      `SELECT count(*) AS n FROM messages
        WHERE recipient = ? AND acked_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)`,
    );
    this.#get = db.prepare<[number], Row>("SELECT * FROM messages WHERE id = ?");
    this.#ackRow = db.prepare<[number, number]>(
      "UPDATE messages SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
    );
    this.#extendRow = db.prepare<[number, number, string, number]>(
      `UPDATE messages SET lease_until = ?
        WHERE id = ? AND recipient = ? AND acked_at IS NULL AND lease_until > ?`,
    );
    this.#releaseAll = db.prepare<[number, string, number], { id: number }>(
      `UPDATE messages SET lease_until = ?
        WHERE recipient = ? AND acked_at IS NULL AND lease_until > ?
        RETURNING id`,
    );
    this.#earliestLease = db.prepare<[string, number], { t: number | null }>(
      `SELECT min(lease_until) AS t FROM messages
        WHERE recipient = ? AND acked_at IS NULL AND lease_until > ?`,
    );
    this.#listFor = db.prepare<[string, number], Row>(
      "SELECT * FROM messages WHERE recipient = ? ORDER BY id DESC LIMIT ?",
    );
    this.#listForBefore = db.prepare<[string, number, number], Row>(
      "SELECT * FROM messages WHERE recipient = ? AND id < ? ORDER BY id DESC LIMIT ?",
    );

    this.#insertTx = db.transaction((m: NewMessage): InsertResult => {
      if (m.clientId !== undefined) {
        const prior = this.#byClientId.get(m.from, m.clientId);
        if (prior) return { id: prior.id, sent_at: prior.sent_at, duplicate: true };
      }
      const row = this.#insert.get(
        m.from,
        m.to,
        m.body,
        m.now,
        m.inReplyTo ?? null,
        m.clientId ?? null,
      );
      return { id: row!.id, sent_at: m.now, duplicate: false };
    });

    this.#leaseTx = db.transaction(
      (
        agent: string,
        now: number,
        leaseUntil: number,
      ): { message: InboxMessage; pending: number } | null => {
        const row = this.#nextDeliverable.get(agent, now);
        if (!row) return null;
        this.#lease.run(leaseUntil, row.id);
        const delivery = row.delivery_count + 1;
        return {
          message: {
            id: row.id,
            from: row.sender,
            to: row.recipient,
            body: row.body,
            sent_at: row.sent_at,
            in_reply_to: row.in_reply_to,
            reply_to: null,
            delivery,
            redelivered: delivery > 1,
            lease_until: leaseUntil,
          },
          pending: this.#countDeliverable.get(agent, now)!.n,
        };
      },
    );

    this.#extendTx = db.transaction(
      (agent: string, ids: number[], now: number, leaseUntil: number): number[] =>
        [...new Set(ids)].filter(
          (id) => this.#extendRow.run(leaseUntil, id, agent, now).changes > 0,
        ),
    );
  }

  /** Stores a message unless (from, clientId) is already stored. Returns after the commit. */
  insert(m: NewMessage): InsertResult {
    return this.#insertTx.immediate(m);
  }

  /**
   * Leases the oldest deliverable message for `agent` until `leaseUntil`, and counts the
   * deliverable ones left. Null when nothing is deliverable.
   */
  leaseNext(
    agent: string,
    now: number,
    leaseUntil: number,
  ): { message: InboxMessage; pending: number } | null {
    return this.#leaseTx.immediate(agent, now, leaseUntil);
  }

  /** Ends every live lease on `agent`'s messages (they become deliverable now); returns their ids. */
  releaseAll(agent: string, now: number): number[] {
    return this.#releaseAll
      .all(now, agent, now)
      .map((r) => r.id)
      .sort((a, b) => a - b);
  }

  /** Deliverable (unacked, not currently leased) messages for `agent`. */
  pending(agent: string, now: number): number {
    return this.#countDeliverable.get(agent, now)!.n;
  }

  /** Ends a message's lease for good. `not_found` when it is not addressed to `agent`. */
  ack(agent: string, id: number, now: number): AckResult {
    const row = this.#get.get(id);
    if (!row || row.recipient !== agent) return "not_found";
    return this.#ackRow.run(now, id).changes > 0 ? "first" : "repeat";
  }

  /** Pushes the lease of those ids still leased to `agent` and unacked; returns them. */
  extend(agent: string, ids: number[], now: number, leaseUntil: number): number[] {
    return this.#extendTx.immediate(agent, ids, now, leaseUntil);
  }

  /** Unix ms of the earliest lease of `agent`'s that is still running, or null. */
  earliestLeaseExpiry(agent: string, now: number): number | null {
    return this.#earliestLease.get(agent, now)?.t ?? null;
  }

  /** Messages addressed to `recipient`, newest first. */
  list(recipient: string, limit: number, beforeId?: number): StoredMessage[] {
    const rows =
      beforeId === undefined
        ? this.#listFor.all(recipient, limit)
        : this.#listForBefore.all(recipient, beforeId, limit);
    return rows.map((r) => ({
      id: r.id,
      from: r.sender,
      to: r.recipient,
      body: r.body,
      sent_at: r.sent_at,
      in_reply_to: r.in_reply_to,
      reply_to: null,
      acked_at: r.acked_at,
      receipts: [
        {
          recipient: r.recipient,
          state: r.acked_at !== null ? "acked" : r.lease_until !== null ? "leased" : "queued",
          deliveries: r.delivery_count,
          acked_at: r.acked_at,
        },
      ],
    }));
  }
}
