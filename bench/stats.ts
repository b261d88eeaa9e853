/**
 * Latency statistics for the load generator. Every delivery is recorded, so the histogram
 * must be cheap (one logarithm and one array increment) and mergeable across worker
 * processes (plain arrays of counts travel over IPC).
 */

/** Relative width of a bucket: values within ~1% of each other share one. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds values below 1 µs; the last bucket holds everything from ~1,000 s up. */
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 2;

export interface HistogramSnapshot {
  readonly counts: number[];
  readonly count: number;
  readonly max: number;
  readonly sum: number;
}

export class LatencyHistogram {
  private counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxValue = 0;
  private sumValue = 0;

  /** Records one latency in microseconds. */
  record(micros: number): void {
    const value = micros < 0 ? 0 : micros;
    this.counts[bucketOf(value)]!++;
    this.total++;
    this.sumValue += value;
    if (value > this.maxValue) this.maxValue = value;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxValue;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sumValue / this.total;
  }

  /**
   * The value at quantile `q` (0..1): the upper edge of the bucket holding it, so the
   * answer is at most ~1% above the true value and never below it; never above the max.
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(upperEdge(index), this.maxValue);
    }
    return this.maxValue;
  }

  merge(other: HistogramSnapshot): void {
    other.counts.forEach((count, index) => {
      if (count > 0) this.counts[Math.min(index, BUCKETS - 1)]! += count;
    });
    this.total += other.count;
    this.sumValue += other.sum;
    if (other.max > this.maxValue) this.maxValue = other.max;
  }

  snapshot(): HistogramSnapshot {
    return {
      counts: Array.from(this.counts),
      count: this.total,
      max: this.maxValue,
      sum: this.sumValue,
    };
  }

  reset(): void {
    this.counts = new Float64Array(BUCKETS);
    this.total = 0;
    this.maxValue = 0;
    this.sumValue = 0;
  }

  static from(snapshots: readonly HistogramSnapshot[]): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const snapshot of snapshots) histogram.merge(snapshot);
    return histogram;
  }
}

function bucketOf(micros: number): number {
  if (micros < 1) return 0;
  const index = Math.floor(Math.log(micros) / LOG_GROWTH) + 1;
  return index < BUCKETS ? index : BUCKETS - 1;
}

function upperEdge(index: number): number {
  return index === 0 ? 1 : Math.pow(GROWTH, index);
}

/** Exact quantile of a small sample (nearest rank), for per-login timings and the like. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/**
 * Tracks, for one receiver, the sequence numbers seen from each sender. A sender numbers
 * its messages 1, 2, 3…; anything but the next number is a loss, a duplicate or a
 * reordering, and is counted as a violation.
 */
export class SequenceTracker {
  private readonly last = new Map<number, number>();
  violations = 0;
  received = 0;

  see(sender: number, seq: number): void {
    const previous = this.last.get(sender) ?? 0;
    if (seq !== previous + 1) this.violations++;
    if (seq > previous) this.last.set(sender, seq);
    this.received++;
  }

  /** The highest number seen from each sender. */
  lastSeen(): Map<number, number> {
    return new Map(this.last);
  }

  reset(): void {
    this.last.clear();
    this.violations = 0;
    this.received = 0;
  }
}

/** Formats a latency in µs for a table: `850 µs`, `12.3 ms`, `1.20 s`. */
export function formatMicros(micros: number): string {
  if (micros < 1000) return `${Math.round(micros)} µs`;
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)} ms`;
  return `${(micros / 1_000_000).toFixed(2)} s`;
}

/** Formats a rate or count with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
