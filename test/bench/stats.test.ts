import { describe, expect, it } from 'vitest';
import { parseMarker, markerText } from '../../bench/lean-client.js';
import {
  RESULTS_END,
  RESULTS_START,
  scenarioEnd,
  scenarioStart,
  spliceResults,
} from '../../bench/report.js';
import { LatencyHistogram, quantileOf, SequenceTracker } from '../../bench/stats.js';

describe('LatencyHistogram', () => {
  it('answers quantiles within its 1% bucket width, never below the true value', () => {
    const histogram = new LatencyHistogram();
    for (let micros = 1; micros <= 10_000; micros++) histogram.record(micros);
    for (const [q, exact] of [
      [0.5, 5000],
      [0.99, 9900],
      [0.999, 9990],
    ] as const) {
      const answer = histogram.quantile(q);
      expect(answer).toBeGreaterThanOrEqual(exact);
      expect(answer).toBeLessThanOrEqual(exact * 1.01);
    }
    expect(histogram.quantile(1)).toBe(10_000);
    expect(histogram.max).toBe(10_000);
    expect(histogram.count).toBe(10_000);
    expect(histogram.mean).toBeCloseTo(5000.5, 5);
  });

  it('merges snapshots from several processes into the same answer as one histogram', () => {
    const whole = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let i = 0; i < 3000; i++) {
      const value = (i * 7919) % 50_000;
      whole.record(value);
      parts[i % 3]!.record(value);
    }
    const merged = LatencyHistogram.from(parts.map((part) => part.snapshot()));
    for (const q of [0.5, 0.9, 0.99]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect(merged.count).toBe(3000);
    expect(merged.max).toBe(whole.max);
  });

  it('is empty-safe and treats negative clock skew as zero', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.99)).toBe(0);
    histogram.record(-5);
    expect(histogram.quantile(0.5)).toBeLessThanOrEqual(1);
  });
});

describe('quantileOf', () => {
  it('takes the nearest rank of the sorted values', () => {
    const values = [9, 1, 5, 3, 7, 2, 8, 4, 6, 10];
    expect(quantileOf(values, 0.5)).toBe(5);
    expect(quantileOf(values, 0.99)).toBe(10);
    expect(quantileOf(values, 0.1)).toBe(1);
    expect(quantileOf([], 0.5)).toBe(0);
  });
});

describe('SequenceTracker', () => {
  it('counts a gap, a duplicate and a reordering as violations, per sender', () => {
    const tracker = new SequenceTracker();
    for (const seq of [1, 2, 3]) tracker.see(7, seq);
    for (const seq of [1, 2]) tracker.see(8, seq);
    expect(tracker.violations).toBe(0);
    tracker.see(7, 5); // gap: 4 lost
    tracker.see(7, 5); // duplicate
    tracker.see(8, 2); // duplicate
    expect(tracker.violations).toBe(3);
    expect(tracker.received).toBe(8);
    expect(tracker.lastSeen()).toEqual(
      new Map([
        [7, 5],
        [8, 2],
      ]),
    );
  });
});

describe('benchmark message markers', () => {
  it('round-trip through an event frame as the server encodes it', () => {
    const text = markerText(12, 345, 1_763_790_000_123_456, 'lorem ipsum');
    const frame = JSON.stringify({
      ev: 'message',
      mid: 1,
      room: 'lobby',
      from: 'm3',
      text,
      id: 9,
      ts: 1,
    });
    expect(parseMarker(frame)).toEqual([12, 345, 1_763_790_000_123_456]);
  });

  it('ignores text that only looks like a marker', () => {
    for (const text of ['~1.2', '~a.2.3 x', '~1.2.3', 'hello ~1.2.3 x'])
      expect(parseMarker(JSON.stringify({ ev: 'message', text }))).toBeUndefined();
  });
});

describe('spliceResults', () => {
  it('replaces only what is between the markers and appends them when missing', () => {
    const document = `# Title\n\nanalysis\n\n${RESULTS_START}\nold\n${RESULTS_END}\n\nmore analysis\n`;
    const spliced = spliceResults(document, 'new table');
    expect(spliced).toBe(
      `# Title\n\nanalysis\n\n${RESULTS_START}\nnew table\n${RESULTS_END}\n\nmore analysis\n`,
    );
    const fresh = spliceResults('# Title\n', 'table');
    expect(fresh).toBe(`# Title\n\n${RESULTS_START}\ntable\n${RESULTS_END}\n`);
  });

  it('replaces only the scenarios a partial run measured, keeping the others', () => {
    const section = (name: string, body: string) =>
      `${scenarioStart(name)}\n### ${name}\n${body}\n${scenarioEnd(name)}`;
    const document =
      `# B\n\n${RESULTS_START}\n${section('fanout', 'old fanout')}\n\n` +
      `${section('ws', 'old ws')}\n${RESULTS_END}\n\nanalysis\n`;
    const spliced = spliceResults(
      document,
      `${section('ws', 'new ws')}\n\n${section('irc', 'new irc')}`,
      false,
    );
    expect(spliced).toBe(
      `# B\n\n${RESULTS_START}\n${section('fanout', 'old fanout')}\n\n` +
        `${section('ws', 'new ws')}\n\n${section('irc', 'new irc')}\n${RESULTS_END}\n\nanalysis\n`,
    );
    // A full run replaces the block, tables without markers included.
    expect(spliceResults(document, section('ws', 'all'), true)).toBe(
      `# B\n\n${RESULTS_START}\n${section('ws', 'all')}\n${RESULTS_END}\n\nanalysis\n`,
    );
  });
});
