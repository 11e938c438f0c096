import type { Db, InboxMessage, ReplyContext } from "@hyperhive/shared";

export { migrations } from "./schema.js";

/** A `messages` row. */
export interface MessageRow {
  id: number;
  sender: string;
  recipient: string;
  body: string;
  sent_at: number;
  in_reply_to: number | null;
  client_id: string | null;
  acked_at: number | null;
  /** Receipts not acked yet. */
  open_receipts: number;
}

/** A `receipts` row. */
export interface ReceiptRow {
  message_id: number;
  recipient: string;
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
  /** An agent, `operator`, or `*`. */
  to: string;
  body: string;
  /** Who gets a receipt: `[to]`, or for a broadcast every agent on the roster but the sender. */
  recipients: readonly string[];
  clientId?: string | undefined;
  inReplyTo?: number | undefined;
  now: number;
}

/** What {@link MessageStore.ack} found. */
export type AckResult = "first" | "repeat" | "not_found";

/** Characters of the answered message's body quoted with a reply. */
export const REPLY_QUOTE_CHARS = 80;

/** A body's first {@link REPLY_QUOTE_CHARS} characters, `…` when cut. */
export function replyQuote(body: string): string {
  return body.length <= REPLY_QUOTE_CHARS ? body : `${body.slice(0, REPLY_QUOTE_CHARS - 1)}…`;
}

/**
 * The queries over an agent's open (unacked) receipts: recv's scan, the pending counts, lease
 * expiry, release and drop. Each names the partial index of open receipts: left to choose, sqlite
 * takes `receipts_recipient` (same columns, every receipt) and reads the agent's whole history on
 * every recv. Exported for the test that checks their plans.
 */
export const OPEN_RECEIPTS_SQL = {
  nextDeliverable: `SELECT * FROM receipts INDEXED BY receipts_open
    WHERE recipient = ? AND acked_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)
    ORDER BY message_id LIMIT 1`,
  countDeliverable: `SELECT count(*) AS n FROM receipts INDEXED BY receipts_open
    WHERE recipient = ? AND acked_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)`,
  countDeliverableOf: `SELECT recipient, count(*) AS n FROM receipts INDEXED BY receipts_open
    WHERE recipient IN (SELECT value FROM json_each(?)) AND acked_at IS NULL
      AND (lease_until IS NULL OR lease_until <= ?)
    GROUP BY recipient`,
  releaseAll: `UPDATE receipts INDEXED BY receipts_open SET lease_until = ?
    WHERE recipient = ? AND acked_at IS NULL AND lease_until > ?
    RETURNING message_id`,
  dropOpen: `DELETE FROM receipts INDEXED BY receipts_open
    WHERE recipient = ? AND acked_at IS NULL RETURNING message_id`,
  earliestLease: `SELECT min(lease_until) AS t FROM receipts INDEXED BY receipts_open
    WHERE recipient = ? AND acked_at IS NULL AND lease_until > ?`,
  // Each agent's oldest deliverable receipt, all leased until one time. The agents are a JSON
  // array of names: an array of {agent, until} objects, with two extractions per agent, made the
  // statement 2.5x slower for 1,000 agents.
  leaseFirstOf: `WITH next AS (
      SELECT value AS agent, (
        SELECT message_id FROM receipts INDEXED BY receipts_open
          WHERE recipient = value AND acked_at IS NULL
            AND (lease_until IS NULL OR lease_until <= ?)
          ORDER BY message_id LIMIT 1) AS message_id
      FROM json_each(?)
    )
    UPDATE receipts SET lease_until = ?, delivery_count = delivery_count + 1
      FROM next WHERE receipts.message_id = next.message_id AND receipts.recipient = next.agent
    RETURNING receipts.recipient, receipts.message_id, receipts.delivery_count`,
} as const;

/**
 * The sql of sending, leasing and acking, as prepared statements. The methods do not open
 * transactions of their own: the broker runs them inside its group commit ({@link CommitQueue}),
 * which in this single-threaded process makes each batch atomic with respect to every other
 * request (two recvs never lease the same receipt).
 */
export class MessageStore {
  readonly #byClientId;
  readonly #insertMessage;
  readonly #insertReceipt;
  readonly #closeReceipt;
  readonly #visible;
  readonly #message;
  readonly #nextDeliverable;
  readonly #leaseFirstOf;
  readonly #insertReceipts;
  readonly #lease;
  readonly #countDeliverable;
  readonly #countDeliverableOf;
  readonly #receipt;
  readonly #ackReceipt;
  readonly #extendReceipt;
  readonly #releaseAll;
  readonly #earliestLease;
  readonly #dropOpen;

  constructor(db: Db) {
    this.#byClientId = db.prepare<[string, string], MessageRow>(
      "SELECT * FROM messages WHERE sender = ? AND client_id = ?",
    );
    this.#insertMessage = db.prepare<
      [string, string, string, number, number | null, string | null, number | null, number],
      { id: number }
    >(
      `INSERT INTO messages
         (sender, recipient, body, sent_at, in_reply_to, client_id, acked_at, open_receipts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.#insertReceipt = db.prepare<[number, string]>(
      "INSERT INTO receipts (message_id, recipient) VALUES (?, ?)",
    );
    // A broadcast's receipts in one statement.
    this.#insertReceipts = db.prepare<[number, string]>(
      "INSERT INTO receipts (message_id, recipient) SELECT ?, value FROM json_each(?)",
    );
    // One receipt fewer open; the last one closing marks the message done.
    this.#closeReceipt = db.prepare<[number, number]>(
      `UPDATE messages SET open_receipts = open_receipts - 1,
         acked_at = CASE WHEN open_receipts = 1 THEN ? ELSE acked_at END
       WHERE id = ?`,
    );
    // Sent by them, to them, or a broadcast they got: what a sender may say it replies to.
    this.#visible = db.prepare<[number, string, string, string], { id: number }>(
      `SELECT id FROM messages m
        WHERE m.id = ? AND (m.sender = ? OR m.recipient = ? OR EXISTS (
          SELECT 1 FROM receipts r WHERE r.message_id = m.id AND r.recipient = ?))`,
    );
    this.#message = db.prepare<[number], MessageRow>("SELECT * FROM messages WHERE id = ?");
    this.#nextDeliverable = db.prepare<[string, number], ReceiptRow>(
      OPEN_RECEIPTS_SQL.nextDeliverable,
    );
    this.#leaseFirstOf = db.prepare<
      [number, string, number],
      { recipient: string; message_id: number; delivery_count: number }
    >(OPEN_RECEIPTS_SQL.leaseFirstOf);
    this.#lease = db.prepare<[number, number, string]>(
      `UPDATE receipts SET lease_until = ?, delivery_count = delivery_count + 1
        WHERE message_id = ? AND recipient = ?`,
    );
    this.#countDeliverable = db.prepare<[string, number], { n: number }>(
      OPEN_RECEIPTS_SQL.countDeliverable,
    );
    this.#countDeliverableOf = db.prepare<[string, number], { recipient: string; n: number }>(
      OPEN_RECEIPTS_SQL.countDeliverableOf,
    );
    this.#receipt = db.prepare<[number, string], ReceiptRow>(
      "SELECT * FROM receipts WHERE message_id = ? AND recipient = ?",
    );
    this.#ackReceipt = db.prepare<[number, number, string]>(
      `UPDATE receipts SET acked_at = ?, lease_until = NULL
        WHERE message_id = ? AND recipient = ? AND acked_at IS NULL`,
    );
    this.#extendReceipt = db.prepare<[number, number, string, number]>(
      `UPDATE receipts SET lease_until = ?
        WHERE message_id = ? AND recipient = ? AND acked_at IS NULL AND lease_until > ?`,
    );
    this.#releaseAll = db.prepare<[number, string, number], { message_id: number }>(
      OPEN_RECEIPTS_SQL.releaseAll,
    );
    this.#dropOpen = db.prepare<[string], { message_id: number }>(OPEN_RECEIPTS_SQL.dropOpen);
    this.#earliestLease = db.prepare<[string, number], { t: number | null }>(
      OPEN_RECEIPTS_SQL.earliestLease,
    );
  }

  /**
   * Stores a message and its receipts unless (from, clientId) is already stored. An
   * `inReplyTo` the sender could not see is dropped. A broadcast nobody received is done at once.
   */
  insert(m: NewMessage): InsertResult {
    if (m.clientId !== undefined) {
      const prior = this.#byClientId.get(m.from, m.clientId);
      if (prior) return { id: prior.id, sent_at: prior.sent_at, duplicate: true };
    }
    const inReplyTo =
      m.inReplyTo !== undefined && this.#visible.get(m.inReplyTo, m.from, m.from, m.from)
        ? m.inReplyTo
        : null;
    const row = this.#insertMessage.get(
      m.from,
      m.to,
      m.body,
      m.now,
      inReplyTo,
      m.clientId ?? null,
      m.recipients.length === 0 ? m.now : null,
      m.recipients.length,
    );
    const id = row!.id;
    if (m.recipients.length === 1) this.#insertReceipt.run(id, m.recipients[0]!);
    else if (m.recipients.length > 1) this.#insertReceipts.run(id, JSON.stringify(m.recipients));
    return { id, sent_at: m.now, duplicate: false };
  }

  message(id: number): MessageRow | undefined {
    return this.#message.get(id);
  }

  /** The answered message in short, while it is stored. */
  replyContext(id: number | null): ReplyContext | null {
    if (id === null) return null;
    const m = this.#message.get(id);
    return m ? { id: m.id, from: m.sender, quote: replyQuote(m.body) } : null;
  }

  /**
   * Leases `agent`'s oldest deliverable receipt until `leaseUntil`; null when none is. The
   * message row comes from `messages` (a broadcast's is the same for every recipient).
   */
  leaseNext(
    agent: string,
    now: number,
    leaseUntil: number,
    messages: (id: number) => MessageRow | undefined = (id) => this.message(id),
  ): InboxMessage | null {
    const r = this.#nextDeliverable.get(agent, now);
    if (!r) return null;
    this.#lease.run(leaseUntil, r.message_id, agent);
    return this.#inbox(messages(r.message_id)!, r.delivery_count + 1, leaseUntil);
  }

  /** A leased receipt as recv returns it: its message, the how-many-th delivery, the lease. */
  #inbox(m: MessageRow, delivery: number, leaseUntil: number): InboxMessage {
    return {
      id: m.id,
      from: m.sender,
      to: m.recipient,
      body: m.body,
      sent_at: m.sent_at,
      in_reply_to: m.in_reply_to,
      reply_to: this.replyContext(m.in_reply_to),
      delivery,
      redelivered: delivery > 1,
      lease_until: leaseUntil,
    };
  }

  /**
   * {@link leaseNext} for many agents in one statement (after a broadcast, a thousand parked
   * recvs): each agent's oldest deliverable receipt, leased until `leaseUntil`. Agents with
   * nothing deliverable are absent from the result.
   */
  leaseFirstOf(
    agents: readonly string[],
    now: number,
    leaseUntil: number,
    messages: (id: number) => MessageRow | undefined = (id) => this.message(id),
  ): Map<string, InboxMessage> {
    const out = new Map<string, InboxMessage>();
    for (const r of this.#leaseFirstOf.all(now, JSON.stringify(agents), leaseUntil)) {
      const m = messages(r.message_id)!;
      out.set(r.recipient, this.#inbox(m, r.delivery_count, leaseUntil));
    }
    return out;
  }

  /** Deliverable receipts of each of `agents`: one query for many, as after a broadcast. */
  pendingOf(agents: readonly string[], now: number): Map<string, number> {
    if (agents.length <= 4) return new Map(agents.map((a) => [a, this.pending(a, now)]));
    const counts = new Map<string, number>(
      this.#countDeliverableOf.all(JSON.stringify(agents), now).map((r) => [r.recipient, r.n]),
    );
    return new Map(agents.map((a) => [a, counts.get(a) ?? 0]));
  }

  /** Deliverable (unacked, not currently leased) receipts of `agent`. */
  pending(agent: string, now: number): number {
    return this.#countDeliverable.get(agent, now)!.n;
  }

  /**
   * Ends `agent`'s receipt of message `id` for good; the message is done when it was its last
   * open receipt. `not_found` when the message has no receipt for `agent`.
   */
  ack(agent: string, id: number, now: number): { result: AckResult; deliveries: number } {
    const r = this.#receipt.get(id, agent);
    if (!r) return { result: "not_found", deliveries: 0 };
    if (this.#ackReceipt.run(now, id, agent).changes === 0) {
      return { result: "repeat", deliveries: r.delivery_count };
    }
    this.#closeReceipt.run(now, id);
    return { result: "first", deliveries: r.delivery_count };
  }

  /** Pushes the lease of those ids still leased to `agent` and unacked; returns them. */
  extend(agent: string, ids: readonly number[], now: number, leaseUntil: number): number[] {
    return [...new Set(ids)].filter(
      (id) => this.#extendReceipt.run(leaseUntil, id, agent, now).changes > 0,
    );
  }

  /** Ends every live lease on `agent`'s receipts (deliverable now); returns their message ids. */
  releaseAll(agent: string, now: number): number[] {
    return this.#releaseAll
      .all(now, agent, now)
      .map((r) => r.message_id)
      .sort((a, b) => a - b);
  }

  /** How often `agent`'s receipt of `id` was leased out (after a release, for its event). */
  deliveries(agent: string, id: number): number {
    return this.#receipt.get(id, agent)?.delivery_count ?? 0;
  }

  /**
   * `agent` left the hive (destroyed, or its spawn denied): its receipts not acked yet are
   * deleted — nobody will read them, and a later agent of the same name must not — and a message
   * that was waiting only for them is done. Returns how many were dropped.
   */
  dropOpenReceipts(agent: string, now: number): number {
    const dropped = this.#dropOpen.all(agent);
    for (const { message_id } of dropped) this.#closeReceipt.run(now, message_id);
    return dropped.length;
  }

  /** Unix ms of the earliest lease of `agent`'s that is still running, or null. */
  earliestLeaseExpiry(agent: string, now: number): number | null {
    return this.#earliestLease.get(agent, now)?.t ?? null;
  }
}
