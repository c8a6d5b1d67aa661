/**
 * Order statistics for latency samples.
 *
 * @module
 */

/**
 * The `q` quantile of sorted samples, by linear interpolation between closest ranks.
 *
 * @param sorted Samples in ascending order.
 * @param q A quantile in [0, 1], e.g. 0.99.
 * @returns The quantile, or NaN with no samples.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/**
 * The median of unsorted values.
 *
 * @param values Any numbers; not modified.
 * @returns Their median, or NaN with none.
 */
export function median(values: readonly number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

/** Latency summary of one variant in one scenario, in µs. */
export interface LatencySummary {
  /** Number of timed round trips over all rounds. */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** The median of the per-round medians: robust to one disturbed round. */
  medianOfRoundMedians: number;
}

/**
 * Summarize per-round latency samples.
 *
 * @param rounds One array of round-trip times (µs) per round.
 * @returns Percentiles over all rounds together and the median of per-round medians.
 */
export function summarizeLatency(rounds: readonly Float64Array[]): LatencySummary {
  const all = new Float64Array(rounds.reduce((n, round) => n + round.length, 0));
  let offset = 0;
  for (const round of rounds) {
    all.set(round, offset);
    offset += round.length;
  }
  all.sort();
  const roundMedians = rounds.filter((r) => r.length > 0).map((r) => quantile(r.toSorted(), 0.5));
  return {
    count: all.length,
    p50: quantile(all, 0.5),
    p90: quantile(all, 0.9),
    p99: quantile(all, 0.99),
    p999: quantile(all, 0.999),
    medianOfRoundMedians: median(roundMedians),
  };
}
