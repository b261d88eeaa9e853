import { Redis, type RedisOptions } from 'ioredis';

export interface RedisLocation {
  /** The URL without Confab's own `prefix` parameter, as ioredis takes it. */
  readonly url: string;
  /** Put before every key and channel, so several installations can share one Redis. */
  readonly prefix: string;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Splits Confab's `prefix` parameter off a `redis://HOST:PORT/DB` URL. */
export function parseRedisUrl(raw: string, prefixOverride?: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(`a Redis bus URL starts with redis:// or rediss://, got ${url.protocol}//`);
  const prefix = prefixOverride ?? url.searchParams.get('prefix') ?? 'confab:';
  url.searchParams.delete('prefix');
  if (!PREFIX.test(prefix))
    throw new Error(`prefix must be 1 to 64 letters, digits and _ . : -, got "${prefix}"`);
  return { url: url.toString(), prefix };
}

/**
 * A connection that reconnects by itself, for ever, backing off to one attempt a second.
 * Commands made while it is away wait in its queue (bounded by the caller) and go out on
 * reconnection, in order.
 */
export function openRedis(url: string, name: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    connectTimeout: 2_000,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    enableOfflineQueue: true,
    autoResubscribe: true,
    ...options,
  });
}
