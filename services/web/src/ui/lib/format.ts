/** Small pure formatters for the pages. */

/** "4s", "3m", "2h", "5d": how long ago `since` (unix ms) was, at `now`. */
export function age(since: number, now: number): string {
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** A unix-ms instant in the operator's locale. */
export function clock(ms: number): string {
  return new Date(ms).toLocaleString();
}

/** A value as text: strings as they are, anything else as indented JSON. */
export function pretty(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A fresh id for an idempotent submit (randomUUID needs a secure context; loopback is one). */
export function newClientId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `web-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** A length of time in seconds, in its largest whole units: "45s", "10m", "1h 30m", "2d". */
export function duration(seconds: number): string {
  const units: ReadonlyArray<readonly [string, number]> = [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.slice(0, 2).join(" ") || "0s";
}
