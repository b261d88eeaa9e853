import { Counter, Gauge, type Histogram, type LabelValues, type Registry } from 'prom-client';

/*
 * Metrics on the message path, kept as plain numbers until Prometheus asks for them.
 *
 * A prom-client `inc` or `observe` with labels hashes and validates the labels on every
 * call, and a bound child (`counter.labels(…)`) does the same, since it is only `inc` with
 * the labels bound; `observe` also allocates. A private message makes five such calls.
 * Here the hot path adds to a number or a bucket, and the sums are handed to prom-client
 * when the registry is read (a scrape), which then formats them like any other metric.
 * The values exposed are exactly those prom-client would expose for the same calls.
 */

type Registers = Registry[];

/** Values of one label, as `[value, count]` pairs, read at scrape time. */
export type LabelledValues = Iterable<readonly [string, number]>;

/** A counter whose value is `read()`, kept by its owner as a plain number. */
export function counterOf(
  registers: Registers,
  name: string,
  help: string,
  read: () => number,
): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label: one plain number per label value, read at scrape time. */
export function labelledCounterOf<L extends string>(
  registers: Registers,
  name: string,
  help: string,
  label: L,
  read: () => LabelledValues,
): Counter<L> {
  return new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, count] of read()) this.inc(labelsOf(label, value), count);
    },
  });
}

/** A gauge with one label, set from plain numbers at scrape time. */
export function labelledGaugeOf<L extends string>(
  registers: Registers,
  name: string,
  help: string,
  label: L,
  read: () => LabelledValues,
): Gauge<L> {
  return new Gauge({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      for (const [value, count] of read()) this.set(labelsOf(label, value), count);
    },
  });
}

function labelsOf<L extends string>(label: L, value: string): LabelValues<L> {
  return { [label]: value } as LabelValues<L>;
}

/** A record of counts by label value, as `labelledCounterOf` reads them. */
export function entriesOf<K extends string>(counts: Readonly<Record<K, number>>): LabelledValues {
  return Object.entries(counts) as [K, number][];
}

/**
 * Counts by a label value not known in advance (a bus envelope's type): one slot per value,
 * so counting is one map lookup and an addition.
 */
export class CountsByName {
  private readonly slots = new Map<string, { count: number }>();

  slot(name: string): { count: number } {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = { count: 0 }));
    return slot;
  }

  *entries(): LabelledValues {
    for (const [name, { count }] of this.slots) yield [name, count];
  }
}

/**
 * One histogram series: a count per bucket (not cumulative; the last is +Inf), the sum and
 * the count. `observe` is a scan of at most a dozen bounds and three additions.
 */
export class Buckets {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // prom-client throws on these; telemetry must never throw on the hot path.
    if (!Number.isFinite(value)) return;
    const { bounds } = this;
    let index = 0;
    // A value on a bound belongs to that bound's bucket (`le`).
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** The series as prom-client's own histogram lists it (cumulative buckets, sum, count). */
  samples(name: string, labels: Readonly<Record<string, string>>): HistogramSample[] {
    const samples: HistogramSample[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += this.counts[index]!;
      samples.push({
        metricName: `${name}_bucket`,
        labels: { le: bound, ...labels },
        value: cumulative,
      });
    });
    samples.push(
      { metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: this.count },
      { metricName: `${name}_sum`, labels: { ...labels }, value: this.sum },
      { metricName: `${name}_count`, labels: { ...labels }, value: this.count },
    );
    return samples;
  }
}

interface HistogramSample {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * A histogram registered with prom-client whose series are `Buckets`: with no label, one
 * series (`series`); with a label, one per label value, made on first use (`seriesFor`).
 *
 * prom-client's histogram has no way to take counts kept elsewhere, so this is a metric of
 * its own in the registry: the registry reads a metric only through `name`, `help`, `type`,
 * `aggregator`, `get()` (the samples, which it formats and escapes itself) and `reset()`.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byLabel = new Map<string, Buckets>();
  private readonly unlabelled: Buckets;

  constructor(
    registers: Registers,
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly label?: string,
  ) {
    this.unlabelled = new Buckets(bounds);
    // The one place the duck typing shows: see the class comment.
    for (const registry of registers) registry.registerMetric(this as unknown as Histogram);
  }

  /** The series of an unlabelled histogram. */
  get series(): Buckets {
    return this.unlabelled;
  }

  /** The series for one label value, made on its first use. */
  seriesFor(value: string): Buckets {
    let series = this.byLabel.get(value);
    if (!series) this.byLabel.set(value, (series = new Buckets(this.bounds)));
    return series;
  }

  /** Zeroes every series in place: whoever holds one keeps counting into the metric. */
  reset(): void {
    this.unlabelled.reset();
    for (const series of this.byLabel.values()) series.reset();
  }

  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: HistogramSample[];
  }> {
    const { name, label } = this;
    const values =
      label === undefined
        ? this.unlabelled.samples(name, {})
        : [...this.byLabel].flatMap(([value, series]) => series.samples(name, { [label]: value }));
    return Promise.resolve({
      name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
