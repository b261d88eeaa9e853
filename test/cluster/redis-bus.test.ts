import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BusEnvelope, HeartbeatEnvelope, InvalidateEnvelope } from '../../src/bus/bus.js';
import { NodeLiveness } from '../../src/bus/liveness.js';
import { RedisBus, type RedisBusStatus } from '../../src/bus/redis/redis-bus.js';
import { BusRequests } from '../../src/bus/requests.js';
import { systemClock } from '../../src/core/clock.js';
import {
  deletePrefix,
  freshPrefix,
  startPrivateRedis,
  TEST_REDIS_URL,
  type PrivateRedis,
} from '../helpers/redis.js';
import { until } from '../helpers/events.js';

const prefixes: string[] = [];
const open: RedisBus[] = [];
const privates: PrivateRedis[] = [];
afterEach(async () => {
  for (const bus of open.splice(0)) await bus.close();
});
afterAll(async () => {
  for (const redis of privates) await redis.dispose();
  for (const prefix of prefixes) await deletePrefix(prefix);
});

async function nodes(
  names: readonly string[],
  options: { url?: string; onStatus?: (node: string, status: RedisBusStatus) => void } = {},
): Promise<RedisBus[]> {
  const prefix = freshPrefix();
  prefixes.push(prefix);
  const buses = await Promise.all(
    names.map((nodeId) =>
      RedisBus.open({
        url: options.url ?? TEST_REDIS_URL,
        prefix,
        nodeId,
        onStatus: (status) => options.onStatus?.(nodeId, status),
      }),
    ),
  );
  open.push(...buses);
  return buses;
}

function record(bus: RedisBus): BusEnvelope[] {
  const seen: BusEnvelope[] = [];
  bus.subscribe((envelope) => seen.push(envelope));
  return seen;
}

const invalidate = (origin: string, key: string): InvalidateEnvelope => ({
  type: 'invalidate',
  origin,
  invalidation: { what: 'config', key },
});

const keys = (seen: readonly BusEnvelope[]) =>
  seen.map((e) =>
    e.type === 'invalidate' && e.invalidation.what === 'config' ? e.invalidation.key : e.type,
  );

describe('the Redis bus', () => {
  it('publish reaches every node, this one included; sendTo only the one named', async () => {
    const [a, b, c] = await nodes(['a', 'b', 'c']);
    const [seenA, seenB, seenC] = [record(a!), record(b!), record(c!)];
    a!.publish(invalidate('a', 'to-all'));
    a!.sendTo('b', invalidate('a', 'to-b'));
    a!.sendTo('a', invalidate('a', 'to-self'));
    await until(
      'the three deliveries',
      () => seenA.length === 2 && seenB.length === 2 && seenC.length === 1,
      5_000,
      10,
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more arrives
    expect(keys(seenA)).toEqual(['to-all', 'to-self']);
    expect(keys(seenB)).toEqual(['to-all', 'to-b']);
    expect(keys(seenC)).toEqual(['to-all']);
    expect(seenB[0]).toEqual(invalidate('a', 'to-all'));
  });

  it('keeps each origin’s order across publish and sendTo, at most once', async () => {
    const [a, b] = await nodes(['a', 'b']);
    const seenB = record(b!);
    const sent: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const key = `k${i}`;
      sent.push(key);
      if (i % 3 === 0) a!.sendTo('b', invalidate('a', key));
      else a!.publish(invalidate('a', key));
    }
    await until('what b was sent', () => seenB.length >= sent.length, 5_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(keys(seenB)).toEqual(sent);
  });

  it('publishes never multiply with the nodes: one turn’s share one PUBLISH, each turn its own', async () => {
    const redis = await startPrivateRedis();
    privates.push(redis);
    const buses = await nodes(['a', 'b', 'c', 'd'], { url: redis.url });
    const seen = buses.map(record);
    const stats = new Redis(redis.url);
    const publishes = async () => {
      const info = await stats.info('commandstats');
      return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await publishes();
    // One turn, as a commit's worth of messages: one PUBLISH carries them all.
    for (let i = 0; i < 50; i++) buses[0]!.publish(invalidate('a', `k${i}`));
    await until(
      'the 50 envelopes on every bus',
      () => seen.every((list) => list.length === 50),
      5_000,
      10,
    );
    expect((await publishes()) - before).toBe(1);
    // Each in a turn of its own: one PUBLISH each, never one per node.
    for (let i = 50; i < 55; i++) {
      buses[0]!.publish(invalidate('a', `k${i}`));
      await until(
        'envelope i on every bus',
        () => seen.every((list) => list.length === i + 1),
        5_000,
        10,
      );
    }
    expect((await publishes()) - before).toBe(6);
    for (const list of seen)
      expect(keys(list)).toEqual(Array.from({ length: 55 }, (_, i) => `k${i}`));
    stats.disconnect();
  });

  it('a batch keeps the order across channels and splits past its limits', async () => {
    const redis = await startPrivateRedis();
    privates.push(redis);
    const [a, b] = await nodes(['a', 'b'], { url: redis.url });
    const [seenA, seenB] = [record(a!), record(b!)];
    const stats = new Redis(redis.url);
    const publishes = async () => {
      const info = await stats.info('commandstats');
      return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await publishes();
    const sent: string[] = [];
    // All in one turn: runs of one channel longer than a PUBLISH carries (1,000), another
    // channel's run between them, then envelopes too big to share one (512 KiB at most).
    for (let i = 0; i < 2_500; i++) {
      const key = `k${i}`;
      sent.push(key);
      if (i >= 1_200 && i < 1_210) a!.sendTo('b', invalidate('a', key));
      else a!.publish(invalidate('a', key));
    }
    const big = 'x'.repeat(200 * 1024);
    for (let i = 0; i < 4; i++) {
      sent.push(`${big}${i}`);
      a!.publish(invalidate('a', `${big}${i}`));
    }
    await until('what b was sent', () => seenB.length >= sent.length, 5_000, 10);
    expect(keys(seenB)).toEqual(sent);
    await until('what a sent', () => seenA.length >= sent.length - 10, 5_000, 10);
    expect(keys(seenA)).toEqual(sent.filter((_, i) => i < 1_200 || i >= 1_210));
    // k0–k999, k1000–k1199, the ten to b, k1210–k2209, k2210–k2499 with two big ones, the
    // last two big ones.
    expect((await publishes()) - before).toBe(6);
    stats.disconnect();
  });

  it('carries requests and answers between nodes, and heartbeats tell who is alive', async () => {
    const [a, b, c] = await nodes(['a', 'b', 'c']);
    const requests = [a!, b!, c!].map((bus) => {
      const requests = new BusRequests(bus, systemClock, () => ({
        type: 'sessions',
        sessions: [],
      }));
      bus.subscribe((envelope) => {
        if (envelope.type === 'request' || envelope.type === 'response') requests.handle(envelope);
      });
      return requests;
    });
    const answers = await requests[0]!.askAll(['a', 'b', 'c'], { type: 'who' });
    expect(answers).toHaveLength(3);

    const liveness = [a!, b!].map((bus) => {
      const live = new NodeLiveness(bus, systemClock, () => 0, 100);
      bus.subscribe((envelope) => {
        if (envelope.type === 'heartbeat') live.handle(envelope as HeartbeatEnvelope);
      });
      return live;
    });
    const lost: string[] = [];
    liveness[0]!.onNodeLost((node) => lost.push(node));
    liveness.forEach((live) => live.start());
    await until('b seen alive', () => liveness[0]!.liveNodes().includes('b'), 5_000, 10);
    liveness[1]!.stop(); // its last heartbeat says it is leaving
    await until('b seen lost', () => lost.includes('b'), 5_000, 10);
    liveness[0]!.stop();
    for (const r of requests) r.stop();
  });

  it('refuses to open when Redis cannot be reached', async () => {
    await expect(
      RedisBus.open({ url: 'redis://127.0.0.1:1/0', nodeId: 'x', prefix: freshPrefix() }),
    ).rejects.toThrow(/cannot reach Redis/);
  });

  it('after a Redis restart, reconnects by itself; what was sent meanwhile arrives, in order', async () => {
    const redis = await startPrivateRedis();
    privates.push(redis);
    const statuses: string[] = [];
    const [a, b] = await nodes(['a', 'b'], {
      url: redis.url,
      onStatus: (node, status) => statuses.push(`${node}:${status.kind}`),
    });
    const seenB = record(b!);
    a!.publish(invalidate('a', 'before'));
    await until('one envelope at b', () => seenB.length === 1, 5_000, 10);

    await redis.stop();
    await until('both buses disconnected', () => !a!.connected && !b!.connected, 5_000, 10);
    await expect(a!.ping()).rejects.toThrow(/not connected/);
    a!.publish(invalidate('a', 'during1'));
    a!.sendTo('b', invalidate('a', 'during2'));
    const restarted = Date.now();
    await redis.start();
    // The subscriber must be back before the queued publishes go out, or they are lost:
    // what a node hears is what arrives after its subscription is restored.
    await until('both buses reconnected', () => a!.connected && b!.connected, 10_000, 10);
    await a!.ping();
    a!.publish(invalidate('a', 'after'));
    await until('the envelope sent after', () => keys(seenB).includes('after'), 5_000, 10);
    expect(Date.now() - restarted).toBeLessThan(5_000);
    // In order and at most once; what went out before b's subscription was back is lost
    // to pub/sub (the store has it: history and inboxes replay it).
    const sent = ['before', 'during1', 'during2', 'after'];
    expect(sent.filter((key) => keys(seenB).includes(key))).toEqual(keys(seenB));
    expect(keys(seenB)[0]).toBe('before');
    expect(keys(seenB).at(-1)).toBe('after');
    expect(statuses).toEqual(expect.arrayContaining(['a:down', 'b:down', 'a:up', 'b:up']));
  });
});
