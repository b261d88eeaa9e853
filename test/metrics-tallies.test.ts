import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BucketHistogram,
  CountsByName,
  counterOf,
  entriesOf,
  labelledCounterOf,
} from '../src/metrics/tallies.js';

function withoutExemplars(json: unknown): unknown {
  return JSON.parse(
    JSON.stringify(json, (key, value: unknown) => (key === 'exemplar' ? undefined : value)),
  );
}

const BOUNDS = [0.0001, 0.001, 0.01, 0.1, 1];
// On a bound, between bounds, below the first, above the last, zero, and repeated.
const VALUES = [0.0001, 0.00005, 0.0005, 0.001, 0.02, 0.5, 1, 3, 0, 0.02, 7.25];

describe('metrics kept as plain numbers until a scrape', () => {
  it('expose a histogram exactly as prom-client does for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const plain = new BucketHistogram([ours], 'confab_x', 'an unlabelled one', BOUNDS);
    const labelled = new BucketHistogram([ours], 'confab_y', 'a labelled one', BOUNDS, 'command');
    const reference = new Histogram({
      name: 'confab_x',
      help: 'an unlabelled one',
      buckets: BOUNDS,
      registers: [theirs],
    });
    const labelledReference = new Histogram({
      name: 'confab_y',
      help: 'a labelled one',
      buckets: BOUNDS,
      labelNames: ['command'],
      registers: [theirs],
    });
    VALUES.forEach((value, index) => {
      plain.series.observe(value);
      reference.observe(value);
      const command = index % 3 === 0 ? 'msg' : 'say';
      labelled.seriesFor(command).observe(value);
      labelledReference.observe({ command }, value);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client lists an empty exemplar with each sample; these histograms keep none.
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(
      withoutExemplars(await theirs.getMetricsAsJSON()),
    );
    expect(await ours.metrics()).toContain('confab_y_bucket{le="0.001",command="msg"} 2');
  });

  it('ignore values prom-client would throw on, rather than throw on the hot path', async () => {
    const registry = new Registry();
    const histogram = new BucketHistogram([registry], 'confab_z', 'help', BOUNDS);
    histogram.series.observe(Number.NaN);
    histogram.series.observe(Number.POSITIVE_INFINITY);
    histogram.series.observe(0.5);
    const text = await registry.metrics();
    expect(text).toContain('confab_z_count 1\n');
    expect(text).toContain('confab_z_sum 0.5\n');
  });

  it('expose counters exactly as prom-client counters incremented call by call', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    let total = 0;
    const byKind = { room: 0, private: 0, broadcast: 0 };
    const byType = new CountsByName();
    counterOf([ours], 'confab_a_total', 'plain', () => total);
    labelledCounterOf([ours], 'confab_b_total', 'by kind', 'kind', () => entriesOf(byKind));
    labelledCounterOf([ours], 'confab_c_total', 'by type', 'type', () => byType.entries());
    const a = new Counter({ name: 'confab_a_total', help: 'plain', registers: [theirs] });
    const b = new Counter({
      name: 'confab_b_total',
      help: 'by kind',
      labelNames: ['kind'],
      registers: [theirs],
    });
    const c = new Counter({
      name: 'confab_c_total',
      help: 'by type',
      labelNames: ['type'],
      registers: [theirs],
    });
    // A closed label set is listed from the start, zeros included.
    for (const kind of ['room', 'private', 'broadcast']) b.inc({ kind }, 0);
    for (const [kind, times] of [
      ['room', 3],
      ['private', 5],
    ] as const) {
      for (let i = 0; i < times; i++) {
        total += 2;
        a.inc(2);
        byKind[kind]++;
        b.inc({ kind });
        byType.slot(kind === 'room' ? 'event' : 'control').count++;
        c.inc({ type: kind === 'room' ? 'event' : 'control' });
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // Read twice: a scrape hands over totals, it does not add them again.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('confab_b_total{kind="private"} 5');
  });
});
