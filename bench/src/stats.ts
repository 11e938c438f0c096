/** Percentiles of a sample, in milliseconds, rounded to the microsecond. */
export interface Stats {
  n: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error("no samples");
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return {
    n: s.length,
    p50_ms: round3(at(0.5)),
    p99_ms: round3(at(0.99)),
    mean_ms: round3(s.reduce((a, b) => a + b, 0) / s.length),
    min_ms: round3(s[0]!),
    max_ms: round3(s[s.length - 1]!),
  };
}

/** a / b to two decimals. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/** A target: the figure, what it must be, and whether it is. */
export interface Target {
  value: number;
  target: string;
  met: boolean;
}

export function atMost(value: number, limit: number): Target {
  return { value, target: `<= ${limit}`, met: value <= limit };
}

export function atLeast(value: number, floor: number): Target {
  return { value, target: `>= ${floor}`, met: value >= floor };
}

/** Runs `n` copies of `worker` at once; resolves when all are done. */
export async function inParallel(n: number, worker: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => worker(i)));
}
