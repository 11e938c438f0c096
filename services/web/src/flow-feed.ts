import type {
  DeliveryEvent,
  HistoryRequest,
  HistoryResponse,
  InboxAnnouncement,
  Logger,
  Recipient,
  StoredMessage,
} from "@hyperhive/shared";

/** What a flow stream sends after its snapshot: new messages whole, and receipt changes. */
export type FlowOut =
  | { event: "message"; data: StoredMessage }
  | { event: "delivery"; data: DeliveryEvent };

/** The most messages one history lookup asks for (the broker's page limit). */
export const LOOKUP_LIMIT = 500;

export interface FlowFeedOptions {
  /** The broker's `hive.op.history`, asked with `before_id` and `limit` only. */
  history: (req: HistoryRequest) => Promise<HistoryResponse>;
  /** Where the feed's output goes, in order. */
  emit: (out: FlowOut) => void;
  log: Logger;
}

type Item =
  | { kind: "message"; ann: InboxAnnouncement; recipients: readonly Recipient[] }
  | { kind: "delivery"; ev: DeliveryEvent };

/**
 * Turns one flow stream's NATS events into what the page shows, in the order they came. An
 * announcement carries only a preview, so the feed looks the message up in the broker's history
 * (its body, reply context and receipts) before it goes out; everything that arrived after it
 * waits meanwhile, so a delivery change is never sent before the message it changes, and the last
 * word on a receipt is always the latest. Announcements that arrive together share one lookup.
 * When the lookup fails, the message goes out as the announcement told it (the preview as its
 * body, every receipt queued), logged.
 *
 * Nothing goes out before {@link FlowFeed.start}: the stream sends its snapshot first.
 */
export class FlowFeed {
  readonly #opts: FlowFeedOptions;
  #queue: Item[] = [];
  #started = false;
  #stopped = false;
  #draining: Promise<void> = Promise.resolve();
  #running = false;

  constructor(opts: FlowFeedOptions) {
    this.#opts = opts;
  }

  /** New mail was announced: to `recipients` (one, or a broadcast's). */
  message(ann: InboxAnnouncement, recipients: readonly Recipient[]): void {
    this.#push({ kind: "message", ann, recipients });
  }

  /** A receipt changed state. */
  delivery(ev: DeliveryEvent): void {
    this.#push({ kind: "delivery", ev });
  }

  /** The snapshot went out: what was held, and everything after, goes out now. */
  start(): void {
    this.#started = true;
    this.#kick();
  }

  /** The stream ended: nothing more goes out, nothing more is looked up. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
  }

  /** Resolves once everything queued so far has gone out (or the feed stopped). */
  idle(): Promise<void> {
    return this.#draining;
  }

  #push(item: Item): void {
    if (this.#stopped) return;
    this.#queue.push(item);
    this.#kick();
  }

  #kick(): void {
    if (!this.#started || this.#running || this.#stopped) return;
    this.#running = true;
    this.#draining = this.#drain().finally(() => {
      this.#running = false;
      // Something may have come between the loop's last look and now.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.splice(0);
      const found = await this.#lookup(batch);
      if (this.#stopped) return;
      for (const item of batch) {
        if (item.kind === "delivery") {
          this.#opts.emit({ event: "delivery", data: item.ev });
        } else {
          const data = found.get(item.ann.id) ?? asAnnounced(item.ann, item.recipients);
          this.#opts.emit({ event: "message", data });
        }
      }
    }
  }

  /**
   * The announced messages of a batch as stored: history pages from the newest of their ids
   * down to the oldest (one page when they are close together, as announcements that arrive
   * together are). What is not found — swept already, or the broker did not answer — goes out
   * as announced.
   */
  async #lookup(batch: readonly Item[]): Promise<ReadonlyMap<number, StoredMessage>> {
    const ids = new Set(batch.flatMap((i) => (i.kind === "message" ? [i.ann.id] : [])));
    const found = new Map<number, StoredMessage>();
    if (ids.size === 0) return found;
    const oldest = Math.min(...ids);
    let before = Math.max(...ids) + 1;
    try {
      while (before > oldest && found.size < ids.size && !this.#stopped) {
        const limit = Math.min(LOOKUP_LIMIT, before - oldest);
        const page = await this.#opts.history({ before_id: before, limit });
        for (const m of page.messages) if (ids.has(m.id)) found.set(m.id, m);
        if (page.next_before_id === null) break;
        before = page.next_before_id;
      }
    } catch (e) {
      const missing = [...ids].filter((id) => !found.has(id));
      this.#opts.log.warn({ err: e, ids: missing }, "history lookup failed; sending as announced");
    }
    return found;
  }
}

/** A message as its announcement tells it: the preview as its body, every receipt queued. */
function asAnnounced(ann: InboxAnnouncement, recipients: readonly Recipient[]): StoredMessage {
  return {
    id: ann.id,
    from: ann.from,
    to: ann.to,
    body: ann.preview,
    sent_at: ann.sent_at,
    in_reply_to: null,
    reply_to: null,
    acked_at: null,
    receipts: recipients.map((recipient) => ({
      recipient,
      state: "queued",
      deliveries: 0,
      acked_at: null,
    })),
  };
}
