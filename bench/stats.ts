/** Pure arithmetic of the benchmark: percentiles, rates and ratios. No clocks, no I/O. */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The `p`-th percentile (0..100) of ascending `sorted` values by the nearest-rank method: the
 * smallest value with at least p% of the samples at or below it. Always one of the samples, so a
 * reported p99 is a latency someone really saw, never an interpolation between two.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("No samples to take a percentile of.");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`Percentile ${p} is not between 0 and 100.`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** p50/p95/p99/max/mean of a set of latencies (any order); `undefined` when there are none. */
export function summarize(samples: readonly number[]): LatencySummary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, x) => sum + x, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
    mean: total / sorted.length,
  };
}

/** The middle value of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("No values to take a median of.");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Events per second: `count` events over `elapsedMs` milliseconds; 0 when nothing was timed. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  if (count === 0 || elapsedMs <= 0) return 0;
  return (count * 1000) / elapsedMs;
}

/**
 * `ours / theirs`, or `undefined` when either side is missing or the divisor is 0: a ratio is
 * only printed when both servers were measured.
 */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined || theirs === 0) return undefined;
  return ours / theirs;
}
