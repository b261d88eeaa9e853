import v8 from 'node:v8';
import type { ServerReply } from './ipc.js';

/** A server process's own memory and CPU, as both benchmark servers report them. */
export function processStats(
  online: number,
  storedMessages: number,
): Extract<ServerReply, { type: 'stats' }> {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    type: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    newSpace: v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!
      .physical_space_size,
    maxRss: process.resourceUsage().maxRSS * 1024,
    external: memory.external,
    cpuMicros: cpu.user + cpu.system,
    online,
    storedMessages,
  };
}
