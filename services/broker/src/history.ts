import type {
  Db,
  DeliveryState,
  HistoryRequest,
  HistoryResponse,
  Receipt,
  ReplyContext,
  StoredMessage,
} from "@hyperhive/shared";
import { type MessageRow, type ReceiptRow, replyQuote } from "./store.js";

/** A history page when the request names no limit. */
export const DEFAULT_HISTORY_LIMIT = 50;

/** Where one receipt stands at `now`: a lease that ran out is queued again. */
export function receiptState(r: ReceiptRow, now: number): DeliveryState {
  if (r.acked_at !== null) return "acked";
  return r.lease_until !== null && r.lease_until > now ? "leased" : "queued";
}

type Filter = Omit<HistoryRequest, "limit">;
type PageParams = Record<string, number | string>;
const preparePage = (db: Db, sql: string) => db.prepare<[PageParams], MessageRow>(sql);

/**
 * Stored messages as the operator looks back at them (`hive.op.history`, the operator's inbox),
 * each with its receipts and what it replies to, and the retention sweep that forgets delivered
 * mail. Reads only, but for the sweep.
 */
export class HistoryStore {
  readonly #db: Db;
  readonly #pages = new Map<string, ReturnType<typeof preparePage>>();
  readonly #receipts;
  readonly #quoted;
  readonly #sweep;

  constructor(db: Db) {
    this.#db = db;
    this.#receipts = db.prepare<[string], ReceiptRow>(
      `SELECT * FROM receipts WHERE message_id IN (SELECT value FROM json_each(?))
        ORDER BY message_id, recipient`,
    );
    this.#quoted = db.prepare<[string], MessageRow>(
      "SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))",
    );
    this.#sweep = db.prepare<[number, number]>(
      `DELETE FROM messages WHERE id IN (
         SELECT id FROM messages WHERE acked_at IS NOT NULL AND acked_at < ? LIMIT ?)`,
    );
  }

  /**
   * One page, newest first: `limit` messages matching every filter given, and where to go on
   * (`next_before_id`) when there may be older ones.
   */
  page(req: HistoryRequest, now: number): HistoryResponse {
    const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
    const rows = this.#select(req, limit + 1);
    const page = rows.slice(0, limit);
    return {
      messages: this.#withReceipts(page, now),
      next_before_id: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /** Mail addressed to `recipient` (the operator's inbox), newest first. */
  inbox(recipient: string, limit: number, beforeId: number | undefined, now: number) {
    const rows = this.#select({ to: recipient, before_id: beforeId }, limit);
    return this.#withReceipts(rows, now);
  }

  /**
   * Deletes up to `max` messages whose every receipt was acked before `cutoff` (unix ms), with
   * their receipts; returns how many. Mail still queued or leased to anyone is never deleted.
   */
  sweep(cutoff: number, max: number): number {
    return this.#sweep.run(cutoff, max).changes;
  }

  #select(f: Filter & { to?: string | undefined }, limit: number): MessageRow[] {
    const where: string[] = [];
    const params: PageParams = { limit };
    let ctes = "";
    if (f.before_id !== undefined) {
      where.push("m.id < @before");
      params.before = f.before_id;
    }
    if (f.since !== undefined) {
      where.push("m.sent_at >= @since");
      params.since = f.since;
    }
    if (f.until !== undefined) {
      where.push("m.sent_at < @until");
      params.until = f.until;
    }
    if (f.to !== undefined) {
      where.push("m.recipient = @to");
      params.to = f.to;
    }
    if (f.agent !== undefined) {
      // Sent by it, or received by it (a receipt: broadcasts included); both through an index.
      where.push(`m.id IN (SELECT id FROM messages WHERE sender = @agent
                   UNION SELECT message_id FROM receipts WHERE recipient = @agent)`);
      params.agent = f.agent;
    }
    if (f.thread !== undefined) {
      // The conversation: up the in_reply_to chain to its first stored message, then every
      // reply down from there.
      ctes = `WITH RECURSIVE
        up(id, parent) AS (
          SELECT id, in_reply_to FROM messages WHERE id = @thread
          UNION SELECT m.id, m.in_reply_to FROM messages m JOIN up ON m.id = up.parent),
        root(id) AS (
          SELECT id FROM up WHERE parent IS NULL
            OR NOT EXISTS (SELECT 1 FROM messages WHERE id = up.parent)),
        down(id) AS (
          SELECT id FROM root
          UNION SELECT m.id FROM messages m JOIN down ON m.in_reply_to = down.id)`;
      where.push("m.id IN (SELECT id FROM down)");
      params.thread = f.thread;
    }
    const sql = `${ctes} SELECT m.* FROM messages m
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY m.id DESC LIMIT @limit`;
    let stmt = this.#pages.get(sql);
    if (!stmt) {
      stmt = preparePage(this.#db, sql);
      this.#pages.set(sql, stmt);
    }
    return stmt.all(params);
  }

  #withReceipts(rows: readonly MessageRow[], now: number): StoredMessage[] {
    if (rows.length === 0) return [];
    const receipts = new Map<number, Receipt[]>();
    for (const r of this.#receipts.all(JSON.stringify(rows.map((m) => m.id)))) {
      let list = receipts.get(r.message_id);
      if (!list) {
        list = [];
        receipts.set(r.message_id, list);
      }
      list.push({
        recipient: r.recipient,
        state: receiptState(r, now),
        deliveries: r.delivery_count,
        acked_at: r.acked_at,
      });
    }
    const answered = rows.flatMap((m) => (m.in_reply_to === null ? [] : [m.in_reply_to]));
    const quoted = new Map<number, ReplyContext>();
    if (answered.length > 0) {
      for (const q of this.#quoted.all(JSON.stringify(answered))) {
        quoted.set(q.id, { id: q.id, from: q.sender, quote: replyQuote(q.body) });
      }
    }
    return rows.map((m) => ({
      id: m.id,
      from: m.sender,
      to: m.recipient,
      body: m.body,
      sent_at: m.sent_at,
      in_reply_to: m.in_reply_to,
      reply_to: m.in_reply_to === null ? null : (quoted.get(m.in_reply_to) ?? null),
      acked_at: m.acked_at,
      receipts: receipts.get(m.id) ?? [],
    }));
  }
}
