import { OPERATOR, type Receipt, type StoredMessage } from "@hyperhive/shared/contract";
import { isBroadcast, tally } from "../../flow-model.js";
import { clock } from "../lib/format.js";

/**
 * One recipient's copy: queued, leased or acked, and "redelivered ×N" when it came round again.
 * The operator's inbox is read, never leased or acked: its copy says "in the inbox".
 */
export function ReceiptBadge({ r }: { r: Receipt }) {
  const label = r.recipient === OPERATOR && r.state === "queued" ? "in the inbox" : r.state;
  return (
    <span
      class={`receipt delivery-${r.state}`}
      data-recipient={r.recipient}
      data-state={r.state}
      data-deliveries={r.deliveries}
    >
      <span class={`badge delivery-state state-${r.state}`}>{label}</span>
      {r.deliveries > 1 && (
        <span class="badge redelivered" title="a lease ran out or was released">
          redelivered ×{r.deliveries}
        </span>
      )}
      {r.acked_at !== null && <span class="muted"> {clock(r.acked_at)}</span>}
    </span>
  );
}

/**
 * Where a message stands with its recipients. A message to one: that receipt. A broadcast (one
 * message, a receipt per agent): "acked by N of M", which opens to each recipient's state.
 */
export function Receipts({ m }: { m: StoredMessage }) {
  if (!isBroadcast(m)) {
    const r = m.receipts[0];
    return <div class="receipts">{r && <ReceiptBadge r={r} />}</div>;
  }
  const t = tally(m);
  return (
    <details class="receipts broadcast-receipts" data-acked={t.acked} data-total={t.total}>
      <summary>
        <span class="ack-count">
          acked by {t.acked} of {t.total}
        </span>
        {t.redelivered > 0 && <span class="badge redelivered">{t.redelivered} redelivered</span>}
      </summary>
      <ul class="receipt-list">
        {m.receipts.map((r) => (
          <li key={r.recipient} data-recipient={r.recipient}>
            <span class="recipient">{r.recipient}</span> <ReceiptBadge r={r} />
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Whom a message went to, as the lists show it: a name, or "everyone" for a broadcast. */
export function Addressee({ m }: { m: StoredMessage }) {
  return isBroadcast(m) ? (
    <span class="to broadcast" title="a broadcast: every agent but the sender">
      everyone (*)
    </span>
  ) : (
    <span class="to">{m.to}</span>
  );
}
