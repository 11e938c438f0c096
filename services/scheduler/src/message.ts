import { bodyBytes, MAX_BODY_BYTES, type Reminder } from "@hyperhive/shared";

/** An occurrence delivered this long after it was due says so: it is late, and by how much. */
export const LATE_AFTER_MS = 5000;

/**
 * Bytes a reminder's text may take: the broker refuses a body over {@link MAX_BODY_BYTES}, and
 * the message adds its first line's prefix and up to three notes (late, skipped, next due).
 */
export const MAX_TEXT_BYTES = MAX_BODY_BYTES - 512;

/** One occurrence as it goes out. */
export interface Occurrence {
  /** delivered_count + 1: part of the client id, so a resend of it is a duplicate. */
  n: number;
  /** The broker's idempotency key for it: `reminder-<id>-<n>-<the file's tag>`. */
  clientId: string;
  body: string;
  /** The next due time of a repeating reminder (null: this is the last occurrence). */
  next: number | null;
}

/**
 * The occurrence of `r` that is due, composed at `now`: `reminder #<id>: <text>`, then a note when
 * it is late, when occurrences were skipped, and when the next one is due. A repeating reminder
 * that was not delivered for several periods (the scheduler or the broker down) goes out once,
 * late, and its next occurrence is the first still ahead of `now`: the ones wholly in the past
 * are skipped, not delivered in a burst.
 */
export function occurrence(r: Reminder, now: number, tag: string): Occurrence {
  const n = r.delivered_count + 1;
  const lines = [`reminder #${r.id}: ${r.body}`];
  const late = now - r.due_at;
  if (late >= LATE_AFTER_MS) {
    lines.push(`(late by ${duration(late)}: it was due at ${iso(r.due_at)})`);
  }
  let next: number | null = null;
  if (r.every_seconds !== null) {
    const every = r.every_seconds * 1000;
    const periods = Math.max(1, Math.floor((now - r.due_at) / every) + 1);
    next = r.due_at + periods * every;
    if (periods > 1) {
      lines.push(
        `(${periods - 1} later occurrence${periods > 2 ? "s" : ""} fell due meanwhile and ` +
          `${periods > 2 ? "were" : "was"} skipped)`,
      );
    }
    lines.push(`(repeats every ${duration(every)}; next due ${iso(next)})`);
  }
  return { n, clientId: clientId(r.id, n, tag), body: lines.join("\n"), next };
}

/** The client id of occurrence `n` of reminder `id` of the file tagged `tag`. */
export function clientId(id: number, n: number, tag: string): string {
  return `reminder-${id}-${n}-${tag}`;
}

/** Whether `text` leaves room in a message for the notes {@link occurrence} adds. */
export function textFits(text: string): boolean {
  return bodyBytes(text) <= MAX_TEXT_BYTES;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `3d 4h`, `2h 5m`, `7m 30s`, `12s`: the two largest units. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const units: [string, number][] = [
    ["d", Math.floor(s / 86_400)],
    ["h", Math.floor(s / 3600) % 24],
    ["m", Math.floor(s / 60) % 60],
    ["s", s % 60],
  ];
  const first = units.findIndex(([, v]) => v > 0);
  if (first < 0) return "0s";
  return units
    .slice(first, first + 2)
    .filter(([, v]) => v > 0)
    .map(([u, v]) => `${v}${u}`)
    .join(" ");
}
