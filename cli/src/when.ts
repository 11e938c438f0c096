const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A moment named on the command line (`hive history --since TIME`), as unix milliseconds:
 *
 * - that long ago: `90s`, `15m`, `2h`, `7d`, `2w`;
 * - a date or a date and time, ISO 8601: `2026-11-22`, `2026-11-22T10:00`, `2026-11-22 10:00:05`,
 *   UTC unless it names an offset (`…Z`, `…+02:00`): the list commands print UTC;
 * - unix milliseconds, as `--json` prints them: `1795000000000`.
 *
 * Returns undefined for anything else.
 */
export function parseMoment(value: string, now: number): number | undefined {
  const ago = /^(\d{1,9})([smhdw])$/.exec(value);
  const unit = UNIT_MS[ago?.[2] ?? ""];
  if (ago && unit !== undefined) return now - Number(ago[1]) * unit;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const iso =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value,
    );
  if (!iso) return undefined;
  const [, date, time, zone] = iso;
  const t = Date.parse(`${date}T${time ?? "00:00"}${zone ?? "Z"}`);
  if (Number.isNaN(t)) return undefined;
  // Date.parse rolls 2026-02-30 over to March: a date that does not exist is refused instead.
  if (zone === undefined && new Date(t).toISOString().slice(0, 10) !== date) return undefined;
  return t;
}

/** What {@link parseMoment} takes, for a usage error. */
export const MOMENT_FORMS =
  "15m, 2h, 7d (that long ago), 2026-11-22 or 2026-11-22T10:00 (UTC), or unix ms";

/** Units of a duration, largest first. */
const DURATION_UNITS = [
  ["w", 604_800],
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
] as const;

/**
 * A duration named on the command line (`hive remind alice 10m …`, `--every 1h`), in seconds:
 * one or more amounts with units, largest first — `90s`, `10m`, `2h`, `1d`, `1w`, `1h30m`,
 * `1d12h`. Returns undefined for anything else (a bare number has no unit: it is refused).
 */
export function parseDuration(value: string): number | undefined {
  const m = /^(?:(\d{1,9})w)?(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/.exec(
    value,
  );
  if (!m || value === "") return undefined;
  return DURATION_UNITS.reduce((sum, [, secs], i) => sum + Number(m[i + 1] ?? 0) * secs, 0);
}

/** A number of seconds exactly, the way {@link parseDuration} reads it: `1h30m`, `1d`, `45s`. */
export function formatDuration(seconds: number): string {
  let left = Math.max(0, Math.round(seconds));
  if (left === 0) return "0s";
  let out = "";
  // In days at most: a period of 14d is read at a glance beside 1d and 12h; 2w less so.
  for (const [unit, secs] of DURATION_UNITS.slice(1)) {
    const n = Math.floor(left / secs);
    if (n > 0) out += `${n}${unit}`;
    left -= n * secs;
  }
  return out;
}

/**
 * A moment with its offset, ISO 8601 (`2026-12-05T09:00:00Z`, `2026-12-05T10:00+01:00`, a space
 * for the T), as the wire's `at` takes it: seconds added when left out, the offset kept as given.
 * `missing_offset` when it is a date and time without one (whose zone would be a guess);
 * undefined when it is not a date and time at all.
 */
export function parseAt(value: string): string | "missing_offset" | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!m) return undefined;
  const [, date, hm, secs, zone] = m;
  if (zone === undefined) return "missing_offset";
  return `${date}T${hm}${secs ?? ":00"}${zone}`;
}
