import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import type { ServerReply } from './ipc.js';

/**
 * CPU time of this process's main thread (the event loop) in µs, from Linux's schedstat
 * (nanoseconds on CPU); `process.cpuUsage` counts every thread: V8's GC helpers, libuv's
 * pool and the SQLite writer. Undefined where /proc is not there.
 */
export function mainThreadCpuMicros(): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return Number(fields[0]) / 1000;
  } catch {
    return undefined;
  }
}

/** A server process's own memory and CPU, as both benchmark servers report them. */
export function processStats(
  online: number,
  storedMessages: number,
): Extract<ServerReply, { type: 'stats' }> {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  const spaces = v8.getHeapSpaceStatistics();
  return {
    type: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    newSpace: spaces.find((space) => space.space_name === 'new_space')!.physical_space_size,
    spaces: Object.fromEntries(
      spaces.map((space) => [space.space_name, space.physical_space_size]),
    ),
    maxRss: process.resourceUsage().maxRSS * 1024,
    external: memory.external,
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros: mainThreadCpuMicros(),
    online,
    storedMessages,
  };
}
