import { openDatabase } from "@hyperhive/shared";

/** The columns of the broker's `messages` table the tests check. */
export interface MessageRow {
  readonly id: number;
  readonly sender: string;
  readonly recipient: string;
  readonly body: string;
  readonly client_id: string | null;
  /** unix ms; null while unacknowledged. */
  readonly acked_at: number | null;
}

function isMessageRow(v: unknown): v is MessageRow {
  if (typeof v !== "object" || v === null) return false;
  const r: Partial<Record<keyof MessageRow, unknown>> = v;
  return (
    typeof r.id === "number" &&
    typeof r.sender === "string" &&
    typeof r.recipient === "string" &&
    typeof r.body === "string" &&
    (r.client_id === null || typeof r.client_id === "string") &&
    (r.acked_at === null || typeof r.acked_at === "number")
  );
}

/**
 * Every stored message, by id, read from the broker's sqlite file. Read it after the broker has
 * stopped: what is in the file then is what the broker committed.
 */
export function readMessages(dbPath: string): MessageRow[] {
  const db = openDatabase(dbPath, []);
  try {
    const rows: unknown[] = db
      .prepare("SELECT id, sender, recipient, body, client_id, acked_at FROM messages ORDER BY id")
      .all();
    return rows.map((row) => {
      if (!isMessageRow(row)) throw new Error(`unexpected broker row: ${JSON.stringify(row)}`);
      return row;
    });
  } finally {
    db.close();
  }
}
