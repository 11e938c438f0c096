/** Text tables and ages, as the list commands print them. */

/**
 * A span, roughly: `12s`, `5m`, `3h`, `2d` (negative counts as 0); rounded in its unit, and
 * the next unit when that rounds up to it (59m 50s is `1h`, not `60m`).
 */
function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(s / 3600);
  if (h < 24) return `${h}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** How long ago, roughly: `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function ago(ms: number): string {
  return `${span(ms)} ago`;
}

/** How soon, roughly: `in 12s`, `in 5m`, `in 3h`, `in 2d`. */
export function inTime(ms: number): string {
  return `in ${span(ms)}`;
}

/** A time as the list commands print it: UTC, `2026-11-22 10:23:40`. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/** Columns padded to their widest cell, two spaces apart; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const header = rows[0] ?? [];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One line of at most `max` characters: newlines become spaces, the rest is cut with `…`. */
export function cell(text: string, max: number): string {
  const line = text.replace(/\s*\n\s*/g, " ");
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
