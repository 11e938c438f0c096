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
