/** Timing statistics in the peers' JSON shape (../shared/peers/bench.mjs), so one table holds everyone. */
export interface TimingStats {
  first_ms: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  mean_ms: number;
  sd_ms: number;
  spread_pct: number;
  n: number;
  samples_ms: number[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Median, min, max, mean, sd and spread% = (max - min) / median of the timed samples. */
export function timingStats(firstMs: number, samples: readonly number[]): TimingStats {
  const xs = samples.length ? [...samples] : [firstMs];
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return {
    first_ms: Math.round(firstMs),
    median_ms: r1(median),
    min_ms: r1(s[0]!),
    max_ms: r1(s[n - 1]!),
    mean_ms: r1(mean),
    sd_ms: r1(sd),
    spread_pct: r1((100 * (s[n - 1]! - s[0]!)) / median),
    n,
    samples_ms: xs.map(r1),
  };
}
