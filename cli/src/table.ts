/** Text tables and ages, as the list commands print them. */

/** How long ago, roughly: `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
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
