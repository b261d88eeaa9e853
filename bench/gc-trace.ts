/**
 * Young-generation allocation and garbage-collection cost over one stretch of a process's
 * life, read from V8's `--trace-gc-nvp` output (one line per collection on stdout:
 * `allocated=` bytes since the previous collection, `promoted=` bytes, `pause=` ms, `gc=s`
 * for a scavenge). CPU profiles show where time goes; these show what each message leaves
 * for the collector, which a profile only shows as "(garbage collector)".
 */
export interface GcTotals {
  readonly allocatedBytes: number;
  readonly promotedBytes: number;
  readonly pauseMs: number;
  readonly scavenges: number;
  readonly fullCollections: number;
}

/** Printed by a process around the stretch to account (the load). */
export const LOAD_START = 'gc-trace: load start';
export const LOAD_END = 'gc-trace: load end';

function field(line: string, name: string): number {
  const match = new RegExp(`(?:^|\\s)${name}=([\\d.]+)`).exec(line);
  return match ? Number(match[1]) : 0;
}

/** Sums the collections logged between the markers; undefined when there were none. */
export function sumGcTrace(output: string): GcTotals | undefined {
  const start = output.indexOf(LOAD_START);
  const end = output.indexOf(LOAD_END);
  if (start < 0 || end < start) return undefined;
  let allocatedBytes = 0;
  let promotedBytes = 0;
  let pauseMs = 0;
  let scavenges = 0;
  let fullCollections = 0;
  for (const line of output.slice(start, end).split('\n')) {
    if (!/\sgc=\S/.test(line)) continue;
    allocatedBytes += field(line, 'allocated');
    promotedBytes += field(line, 'promoted');
    pauseMs += field(line, 'pause');
    if (/\sgc=s\s/.test(line)) scavenges++;
    else fullCollections++;
  }
  if (scavenges + fullCollections === 0) return undefined;
  return { allocatedBytes, promotedBytes, pauseMs, scavenges, fullCollections };
}
