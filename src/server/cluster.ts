import { randomBytes } from 'node:crypto';
import type { BusSettings } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Bus } from '../bus/bus.js';
import type { SessionDirectory } from '../core/directory/directory.js';
import type { RedisDirectory } from '../bus/redis/redis-directory.js';

/**
 * A node's place in a cluster (`--bus redis://…`): the Redis bus and the Redis session
 * directory with this node's lease. Loaded only when asked for: the embedded default
 * starts without ioredis.
 */
export interface ClusterMembership {
  readonly bus: Bus;
  readonly directory: SessionDirectory;
  /** The lease was lost (cut off from Redis too long): the node must hold no session. */
  onLeaseLost(handler: (reason: string) => void): void;
  /** Back in the cluster (lease held again, or the bus reconnected): caches are stale. */
  onRejoined(handler: () => void): void;
  /** Redis lost its data (restarted) while this node held its lease: claim again. */
  onReset(handler: () => void): void;
  /**
   * The bus carries envelopes again after a gap that began at `downSince` (this node's
   * clock): what other nodes fanned out meanwhile never reached it.
   */
  onBusBack(handler: (downSince: number) => void): void;
  /** True while the node may take logins. */
  readonly holdsLease: boolean;
  close(): Promise<void>;
}

/** A random node id, short enough to read in logs: `n-` and 8 hex digits. */
export function randomNodeId(): string {
  return `n-${randomBytes(4).toString('hex')}`;
}

export async function joinCluster(
  settings: Extract<BusSettings, { kind: 'redis' }>,
  nodeId: string,
  clock: Clock,
  logger: Logger,
): Promise<ClusterMembership> {
  const [{ RedisBus }, directoryModule] = await Promise.all([
    import('../bus/redis/redis-bus.js'),
    import('../bus/redis/redis-directory.js'),
  ]);
  const lost: Array<(reason: string) => void> = [];
  const rejoined: Array<() => void> = [];
  const reset: Array<() => void> = [];
  const busBack: Array<(downSince: number) => void> = [];
  let downSince: number | null = null;
  const bus = await RedisBus.open({
    url: settings.url,
    nodeId,
    onStatus: (status) => {
      if (status.kind === 'down') {
        downSince ??= clock.now();
        logger.warn({ event: 'bus_down', reason: status.reason }, 'lost the connection to Redis');
      } else if (status.kind === 'up') {
        logger.info({ event: 'bus_up' }, 'connected to Redis again');
        const since = downSince;
        downSince = null;
        if (since === null) return;
        // Invalidations published meanwhile were missed: every cache is read again.
        for (const handler of rejoined) handler();
        for (const handler of busBack) handler(since);
      } else
        logger.warn(
          { event: 'bus_dropped', count: status.count },
          'envelopes dropped while Redis was away (the store has what they carried)',
        );
    },
  });
  let directory: RedisDirectory;
  try {
    directory = await directoryModule.RedisDirectory.open(bus.commands, {
      prefix: bus.prefix,
      nodeId,
      clock,
      onLost: (reason) => {
        logger.error({ event: 'lease_lost', reason }, 'lost this node’s lease: closing sessions');
        for (const handler of lost) handler(reason);
      },
      onReset: () => {
        logger.warn({ event: 'lease_reset' }, 'Redis lost the cluster state: claiming again');
        for (const handler of reset) handler();
      },
      onRegained: () => {
        logger.info({ event: 'lease_regained' }, 'holds its lease again: taking logins');
        for (const handler of rejoined) handler();
      },
    });
  } catch (error) {
    await bus.close();
    throw error;
  }
  return {
    bus,
    directory,
    onLeaseLost: (handler) => lost.push(handler),
    onRejoined: (handler) => rejoined.push(handler),
    onReset: (handler) => reset.push(handler),
    onBusBack: (handler) => busBack.push(handler),
    get holdsLease() {
      return directory.holdsLease;
    },
    async close() {
      await directory.close();
      await bus.close();
    },
  };
}
