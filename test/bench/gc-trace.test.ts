import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LOAD_END, LOAD_START, sumGcTrace } from '../../bench/gc-trace.js';

describe('sumGcTrace', () => {
  it('sums only the collections between the load markers', () => {
    const line = (gc: string, allocated: number, promoted: number, pause: number) =>
      `[1:0x1]  5 ms: pause=${pause} mutator=1.0 gc=${gc} reduce_memory=0 allocated=${allocated} promoted=${promoted} new_space_survived=0`;
    const output = [
      line('s', 999, 999, 9),
      LOAD_START,
      line('s', 1000, 10, 1.5),
      line('mc', 500, 20, 4),
      line('s', 2000, 30, 0.5),
      LOAD_END,
      line('s', 999, 999, 9),
    ].join('\n');
    expect(sumGcTrace(output)).toEqual({
      allocatedBytes: 3500,
      promotedBytes: 60,
      pauseMs: 6,
      scavenges: 2,
      fullCollections: 1,
    });
    expect(sumGcTrace(line('s', 1, 1, 1))).toBeUndefined();
  });

  it('reads a real V8 trace: a load allocating well over 100 MB shows it', () => {
    const script = `
      console.log(${JSON.stringify(LOAD_START)});
      let keep = 0;
      for (let i = 0; i < 2_000_000; i++) keep += new Array(10).fill(i).length;
      console.log(${JSON.stringify(LOAD_END)}, keep);`;
    const output = execFileSync(process.execPath, ['--trace-gc-nvp', '-e', script], {
      encoding: 'utf8',
    });
    const totals = sumGcTrace(output);
    // 2 million arrays of 10 small integers: about 100 bytes each, well over 100 MB.
    expect(totals!.allocatedBytes).toBeGreaterThan(100e6);
    expect(totals!.scavenges).toBeGreaterThan(3);
  });
});
