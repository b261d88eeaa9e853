import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { DirectoryEntry } from '../../src/core/directory/directory.js';
import { RedisDirectory } from '../../src/bus/redis/redis-directory.js';
import { ChatError } from '../../src/core/errors.js';
import { until } from '../helpers/events.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const prefixes: string[] = [];
const connections: Redis[] = [];
const directories: RedisDirectory[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await directory.close().catch(() => undefined);
  for (const redis of connections.splice(0)) redis.disconnect();
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(prefix);
});

interface Node {
  readonly directory: RedisDirectory;
  readonly redis: Redis;
  readonly lost: number[];
  readonly regained: number[];
}

async function node(
  prefix: string,
  nodeId: string,
  url = TEST_REDIS_URL,
  leaseMs?: number,
): Promise<Node> {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: () => 100,
    connectTimeout: 1_000,
  });
  redis.on('error', () => undefined);
  connections.push(redis);
  const lost: number[] = [];
  const regained: number[] = [];
  const directory = await RedisDirectory.open(redis, {
    prefix,
    nodeId,
    clock: systemClock,
    ...(leaseMs !== undefined && { leaseMs }),
    onLost: () => lost.push(Date.now()),
    onRegained: () => regained.push(Date.now()),
  });
  directories.push(directory);
  return { directory, redis, lost, regained };
}

function newPrefix(): string {
  const prefix = freshPrefix();
  prefixes.push(prefix);
  return prefix;
}

const entry = (
  session: string,
  node: string,
  nickKey: string,
  accountId: number | null = null,
): DirectoryEntry => ({
  session,
  node,
  nick: nickKey.toUpperCase(),
  nickKey,
  accountId,
  admin: false,
});

/** Sessions of `at`'s node, each claimed, resumable with the token `t-<session>`. */
async function sessionsOn(
  at: Node,
  nodeId: string,
  sessions: readonly (readonly [session: string, nick: string])[],
  rooms: readonly string[] = [],
): Promise<void> {
  for (const [session, nick] of sessions) {
    await at.directory.claim(entry(session, nodeId, nick));
    await at.directory.saveResume(`t-${session}`, {
      session,
      node: nodeId,
      nick,
      nickKey: nick,
      accountId: null,
      rooms,
    });
  }
}

describe('the Redis session directory', () => {
  it('holds each nickname once across nodes, and indexes sessions and accounts', async () => {
    const prefix = newPrefix();
    const a = await node(prefix, 'a');
    const b = await node(prefix, 'b');
    // Forty races for one key each: exactly one winner every time.
    for (let i = 0; i < 40; i++) {
      const results = await Promise.all([
        a.directory.claim(entry(`sa${i}`, 'a', `k${i}`)),
        b.directory.claim(entry(`sb${i}`, 'b', `k${i}`)),
      ]);
      expect(results.filter((result) => result === null)).toHaveLength(1);
    }
    expect(await a.directory.claim(entry('s1', 'a', 'alice', 7))).toBeNull();
    expect(await b.directory.claim(entry('s2', 'b', 'alice'))).toMatchObject({
      session: 's1',
      node: 'a',
    });
    expect(await b.directory.find('alice')).toMatchObject({ session: 's1', node: 'a' });
    expect(await b.directory.findAccount(7)).toMatchObject({ session: 's1' });
    expect(await b.directory.findSession('s1')).toMatchObject({ nickKey: 'alice' });
    // A takeover names the session it replaces.
    expect(await b.directory.claim(entry('s3', 'b', 'alice', 7), 's1')).toBeNull();
    expect(await a.directory.findSession('s1')).toBeUndefined();
    expect(await a.directory.findAccount(7)).toMatchObject({ session: 's3', node: 'b' });
    // The replaced session's late release removes nothing of its successor's.
    await a.directory.release('s1');
    expect(await a.directory.find('alice')).toMatchObject({ session: 's3' });
    // Renames: refused onto a held key, free keys follow.
    await a.directory.claim(entry('s4', 'a', 'bob'));
    expect(await a.directory.rename('s4', 'ALICE', 'alice')).toMatchObject({ session: 's3' });
    expect(await a.directory.rename('s4', 'Robert', 'robert')).toBeNull();
    expect(await b.directory.find('bob')).toBeUndefined();
    expect(await b.directory.find('robert')).toMatchObject({ session: 's4', nick: 'Robert' });
    const listed = await b.directory.list();
    expect(listed.map((each) => each.session)).toEqual(expect.arrayContaining(['s3', 's4']));
    expect(listed).toHaveLength(42);
    const onA = listed.filter((each) => each.node === 'a').length;
    expect(await b.directory.forgetNode('a')).toBe(onA);
    expect(await b.directory.find('robert')).toBeUndefined();
    expect(await b.directory.list()).toHaveLength(42 - onA);
  });

  it('records departures for every node, newest first', async () => {
    const prefix = newPrefix();
    const a = await node(prefix, 'a');
    const b = await node(prefix, 'b');
    await a.directory.recordDeparture({ nick: 'Zed', key: 'zed', account: false, lastSeen: 1_000 });
    await a.directory.recordDeparture({ nick: 'Amy', key: 'amy', account: true, lastSeen: 2_000 });
    await a.directory.recordDeparture({ nick: 'ZED', key: 'zed', account: false, lastSeen: 3_000 });
    expect((await b.directory.departures(1_500)).map((each) => each.nick)).toEqual(['ZED', 'Amy']);
    expect(await b.directory.departure('amy')).toMatchObject({ account: true, lastSeen: 2_000 });
  });

  it("frees a dead node's claims within 10 s, and that node fences itself first", async () => {
    const prefix = newPrefix();
    const a = await node(prefix, 'a');
    const b = await node(prefix, 'b');
    await a.directory.claim(entry('s1', 'a', 'carol', 3));
    // Node a dies: its connection goes and its lease is never renewed again.
    a.redis.disconnect();
    const died = Date.now();
    expect(await b.directory.claim(entry('s2', 'b', 'carol'))).not.toBeNull();
    await until(
      'b to get carol once a lapsed',
      async () => (await b.directory.claim(entry('s2', 'b', 'carol', 3))) === null,
      12_000,
      100,
    );
    const freedAfter = Date.now() - died;
    expect(freedAfter).toBeLessThan(10_000);
    expect(await b.directory.findAccount(3)).toMatchObject({ session: 's2', node: 'b' });
    // Node a stopped counting on its sessions before they were given away.
    expect(a.lost).toHaveLength(1);
    expect(a.lost[0]!).toBeLessThanOrEqual(died + freedAfter);
    expect(a.directory.holdsLease).toBe(false);
    await expect(a.directory.claim(entry('s9', 'a', 'dan'))).rejects.toBeInstanceOf(ChatError);
  }, 20_000);

  it("hands each of a dead node's unresumed sessions to one node, once its resume window closed", async () => {
    const prefix = newPrefix();
    // Short, but not so short that the 1 s fencing margin fences the survivors.
    const leaseMs = 3_000;
    const graceMs = 500;
    const [a, b, c] = await Promise.all([
      node(prefix, 'a', TEST_REDIS_URL, leaseMs),
      node(prefix, 'b', TEST_REDIS_URL, leaseMs),
      node(prefix, 'c', TEST_REDIS_URL, leaseMs),
    ]);
    const record = (session: string, nickKey: string) => ({
      session,
      node: 'a',
      nick: nickKey,
      nickKey,
      accountId: null,
      rooms: ['den'],
    });
    for (const [session, nick] of [
      ['s1', 'bob'],
      ['s2', 'carol'],
      ['s3', 'erin'],
    ] as const) {
      await a.directory.claim(entry(session, 'a', nick));
      await a.directory.saveResume(`t-${session}`, record(session, nick));
    }
    await b.directory.saveResume('t-b', { ...record('s9', 'dan'), node: 'b' });
    // Alive: nothing is abandoned.
    expect(await b.directory.takeAbandoned(graceMs)).toEqual([]);
    a.redis.disconnect();
    const died = Date.now();
    // Within the window, one is resumed (its token spent); once the lease lapsed, someone
    // else takes one of the nicknames.
    expect(await c.directory.takeResume('t-s3', graceMs)).toMatchObject({ nodeAlive: true });
    await until(
      'the lease of a to lapse',
      async () => !(await c.directory.nodeAlive('a')),
      5_000,
      100,
    );
    expect(await c.directory.claim(entry('s4', 'c', 'carol'))).toBeNull();
    // Both survivors look, often and at once: each session goes to one of them.
    const taken: { session: string; nickHeld: boolean; lastSeen: number }[] = [];
    await until(
      'both abandoned sessions taken',
      async () => {
        const found = await Promise.all([
          b.directory.takeAbandoned(graceMs),
          c.directory.takeAbandoned(graceMs),
        ]);
        for (const each of found.flat())
          taken.push({
            session: each.record.session,
            nickHeld: each.nickHeld,
            lastSeen: each.lastSeen,
          });
        return taken.length >= 2;
      },
      10_000,
      100,
    );
    expect(Date.now() - died).toBeGreaterThanOrEqual(leaseMs - 1_000);
    expect(
      taken
        .map(({ session, nickHeld }) => ({ session, nickHeld }))
        .sort((x, y) => x.session.localeCompare(y.session)),
    ).toEqual([
      { session: 's1', nickHeld: false },
      { session: 's2', nickHeld: true },
    ]);
    for (const { lastSeen } of taken) expect(Math.abs(lastSeen - died)).toBeLessThan(1_500);
    expect(await b.directory.takeAbandoned(graceMs)).toEqual([]);
    // The tokens resume nothing, the dead node's entries are gone, the live node's record stays.
    expect(await b.directory.takeResume('t-s1', graceMs)).toBeUndefined();
    expect(await b.redis.hexists(`${prefix}dir:s`, 's1')).toBe(0);
    expect(await b.redis.exists(`${prefix}rs:t-b`)).toBe(1);
  }, 20_000);

  it('hands the sessions of a node id whose process died to its next process, at once', async () => {
    const prefix = newPrefix();
    const leaseMs = 3_000;
    const a = await node(prefix, 'a', TEST_REDIS_URL, leaseMs);
    const b = await node(prefix, 'b', TEST_REDIS_URL, leaseMs);
    await sessionsOn(a, 'a', [
      ['s1', 'bob'],
      ['s2', 'carol'],
    ]);
    a.redis.disconnect();
    await until(
      'the lease of a to lapse',
      async () => !(await b.directory.nodeAlive('a')),
      5_000,
      100,
    );
    expect(await b.directory.claim(entry('s3', 'b', 'carol'))).toBeNull();
    // Restarted under the same id well inside the resume window (a minute here): its old
    // records go when it takes the lease, so nobody else could ever announce those leaves.
    const again = await node(prefix, 'a', TEST_REDIS_URL, leaseMs);
    expect(await b.directory.takeAbandoned(60_000)).toEqual([]);
    const taken = await again.directory.takeAbandoned(60_000);
    expect(
      taken
        .map((each) => ({ session: each.record.session, nickHeld: each.nickHeld }))
        .sort((x, y) => x.session.localeCompare(y.session)),
    ).toEqual([
      { session: 's1', nickHeld: false },
      { session: 's2', nickHeld: true },
    ]);
    expect(await again.directory.takeAbandoned(60_000)).toEqual([]);
    expect(await b.directory.takeResume('t-s1', 60_000)).toBeUndefined();
    // It dies too, before announcing them: once its lease lapsed, another node takes them.
    again.redis.disconnect();
    let later: Awaited<ReturnType<RedisDirectory['takeAbandoned']>> = [];
    await until(
      'the restarted process’s sessions taken again',
      async () => (later = await b.directory.takeAbandoned(60_000)).length > 0,
      10_000,
      100,
    );
    expect(later.map((each) => each.record.session).sort()).toEqual(['s1', 's2']);
  }, 20_000);

  it('takes a batch of abandoned sessions again when its taker died before announcing it', async () => {
    const prefix = newPrefix();
    const leaseMs = 2_000;
    const graceMs = 300;
    const [a, b, c] = await Promise.all([
      node(prefix, 'a', TEST_REDIS_URL, leaseMs),
      node(prefix, 'b', TEST_REDIS_URL, leaseMs),
      node(prefix, 'c', TEST_REDIS_URL, leaseMs),
    ]);
    await sessionsOn(a, 'a', [
      ['s1', 'bob'],
      ['s2', 'carol'],
      ['s3', 'erin'],
    ]);
    a.redis.disconnect();
    // B takes all three, announces one (s1) and dies before announcing the others.
    let taken: Awaited<ReturnType<RedisDirectory['takeAbandoned']>> = [];
    await until(
      'b to take the abandoned sessions',
      async () => (taken = await b.directory.takeAbandoned(graceMs)).length > 0,
      10_000,
      100,
    );
    expect(taken.map((each) => each.record.session).sort()).toEqual(['s1', 's2', 's3']);
    await b.directory.finishAbandoned(
      taken.filter((each) => each.record.session === 's1').map((each) => each.key),
    );
    // Held by B while its lease lives: nobody else takes them.
    expect(await c.directory.takeAbandoned(graceMs)).toEqual([]);
    b.redis.disconnect();
    let again: Awaited<ReturnType<RedisDirectory['takeAbandoned']>> = [];
    await until(
      'c to take them again',
      async () => (again = await c.directory.takeAbandoned(graceMs)).length > 0,
      10_000,
      100,
    );
    expect(
      again
        .map((each) => ({ session: each.record.session, nick: each.record.nick }))
        .sort((x, y) => x.session.localeCompare(y.session)),
    ).toEqual([
      { session: 's2', nick: 'carol' },
      { session: 's3', nick: 'erin' },
    ]);
    // Still A's last sign of life and the end of its lease, not B's.
    for (const each of again) {
      expect(each.lastSeen).toBe(taken[0]!.lastSeen);
      expect(each.goneAt).toBe(taken[0]!.goneAt);
    }
    await c.directory.finishAbandoned(again.map((each) => each.key));
    expect(await c.directory.takeAbandoned(graceMs)).toEqual([]);
    // Nothing of the hand-over is left in Redis.
    expect(await c.redis.keys(`${prefix}ab:*`)).toEqual([]);
  }, 30_000);

  it('fences a node cut off from Redis before its nicknames go, and takes it back after', async () => {
    const prefix = newPrefix();
    const port = Number(new URL(TEST_REDIS_URL).port || 6379);
    const proxy = await startTcpProxy(port);
    proxies.push(proxy);
    const dbPath = new URL(TEST_REDIS_URL).pathname;
    const a = await node(prefix, 'a', `redis://127.0.0.1:${proxy.port}${dbPath}`);
    const b = await node(prefix, 'b');
    await a.directory.claim(entry('s1', 'a', 'erin'));
    proxy.cut();
    const cutAt = Date.now();
    await until(
      'b to get erin once a was fenced',
      async () => (await b.directory.claim(entry('s2', 'b', 'erin'))) === null,
      12_000,
      100,
    );
    const takenAt = Date.now();
    // At no moment did two live sessions hold "erin": a gave up before b took it.
    expect(a.lost).toHaveLength(1);
    expect(a.lost[0]!).toBeLessThan(takenAt);
    expect(a.lost[0]! - cutAt).toBeGreaterThan(3_000);
    proxy.heal();
    await until(
      'a to regain its lease',
      () => Promise.resolve(a.regained.length === 1),
      10_000,
      100,
    );
    expect(a.directory.holdsLease).toBe(true);
    // What a left behind is gone; b's claim stands.
    expect(await a.directory.find('erin')).toMatchObject({ session: 's2', node: 'b' });
    expect(await a.directory.findSession('s1')).toBeUndefined();
    expect(await a.directory.claim(entry('s3', 'a', 'fay'))).toBeNull();
  }, 30_000);

  it('refuses a second running node with the same id', async () => {
    const prefix = newPrefix();
    await node(prefix, 'same');
    const started = Date.now();
    await expect(node(prefix, 'same')).rejects.toThrow(/holds the node id/);
    expect(Date.now() - started).toBeGreaterThan(5_000);
  }, 15_000);
});
