import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { startClusterProcesses, type NodeProcess } from '../helpers/cluster-processes.js';
import { startPrivateRedis, TEST_REDIS_URL } from '../helpers/redis.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/events.js';

// Faults with real `confab serve` processes on PostgreSQL and Redis: Redis restarted under
// load, one node cut off from Redis. (SIGKILL of a node: test/cluster/haproxy.test.ts and
// test/cluster/node-killed-under-load.test.ts.)

const PASSWORD = 'correct horse battery staple 9';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function connect(node: NodeProcess, nick: string, password?: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port: node.port });
  cleanups.push(() => client.destroy());
  await client.login(nick, password);
  return client;
}

async function ready(node: NodeProcess): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${node.webPort}/readyz`)).status;
  } catch {
    return 0;
  }
}

describe('cluster faults, with real processes', () => {
  it('Redis restarted under load: sessions stay, delivery resumes within 5 s, nothing acknowledged is lost', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.dispose());
    const cluster = await startClusterProcesses({ count: 2, redisUrl: redis.url });
    cleanups.push(() => cluster.dispose());
    const [first, second] = cluster.nodes as [NodeProcess, NodeProcess];
    const alice = await connect(first, 'alice');
    const bob = await connect(second, 'bob');
    const heard: Array<{ text: string; at: number; replayed: boolean }> = [];
    const notices: string[] = [];
    bob.on('event', (event: ServerEvent) => {
      if (event.ev === 'message')
        heard.push({ text: event.text, at: Date.now(), replayed: event.replay === 'missed' });
      if (event.ev === 'notice') notices.push(event.text);
    });
    let aliceClosed = false;
    void alice.closed().then(() => (aliceClosed = true));
    let bobClosed = false;
    void bob.closed().then(() => (bobClosed = true));

    // A bounded load: 120 messages, one every 25 ms; Redis goes away after the 30th.
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let restartedAt = 0;
    const sentAt = new Map<string, number>();
    for (let i = 0; i < 120; i++) {
      if (i === 30) {
        await redis.stop();
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await redis.start();
        restartedAt = Date.now();
      }
      const text = `load ${i}`;
      sentAt.set(text, Date.now());
      try {
        await alice.request('say', { text });
        acknowledged.push(text);
      } catch {
        failed.push(text);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Live delivery came back within 5 s of Redis: the first message sent after the
    // restart reached bob within 5 s of that restart.
    const afterRestart = acknowledged.filter((text) => sentAt.get(text)! >= restartedAt);
    expect(afterRestart.length).toBeGreaterThan(50);
    await until('bob to hear the last message', () =>
      heard.some((each) => each.text === acknowledged.at(-1)),
    );
    const firstLive = heard.find((each) => !each.replayed && afterRestart.includes(each.text));
    expect(firstLive).toBeDefined();
    expect(firstLive!.at - restartedAt).toBeLessThan(5_000);
    // Every acknowledged message is stored exactly once, and bob heard none twice.
    const history = await bob.request<{ messages: { text: string }[] }>('history', {
      count: 500,
    });
    const stored = history.messages.map((message) => message.text);
    for (const text of acknowledged) expect(stored.filter((each) => each === text)).toHaveLength(1);
    // Bob heard every acknowledged message exactly once: what alice's node published before
    // bob's node had subscribed again (pub/sub keeps nothing) came as a replay from the
    // store once bob's node was back (`replayBusGap`), marked missed, with a notice.
    await until('bob to hear every acknowledged message', () =>
      acknowledged.every((text) => heard.some((each) => each.text === text)),
    );
    const heardTexts = heard.map((each) => each.text);
    expect(new Set(heardTexts).size).toBe(heardTexts.length);
    expect(heardTexts.filter((text) => !acknowledged.includes(text))).toEqual([]);
    const replayed = heard.filter((each) => each.replayed).map((each) => each.text);
    for (const text of replayed) expect(sentAt.get(text)! - restartedAt).toBeLessThan(5_000);
    if (replayed.length > 0)
      expect(notices.some((text) => text.includes('lost touch with the others'))).toBe(true);
    console.log(
      `Redis restart: ${replayed.length} of ${acknowledged.length} replayed after the gap, the rest live`,
    );
    expect(failed).toEqual([]);
    // Both sessions lived through it (each node claimed its sessions again).
    expect(aliceClosed || bobClosed).toBe(false);
    const taken = await ChatClient.connect({ host: '127.0.0.1', port: second.port });
    cleanups.push(() => taken.destroy());
    await expect(taken.login('alice')).rejects.toMatchObject({ code: 'nick_taken' });
  }, 60_000);

  it('a node cut off from Redis closes its sessions before anyone else may take their names, and enforces what changed meanwhile once back', async () => {
    const port = Number(new URL(TEST_REDIS_URL).port || 6379);
    const proxy = await startTcpProxy(port);
    cleanups.push(() => proxy.close());
    const db = new URL(TEST_REDIS_URL).pathname;
    const cluster = await startClusterProcesses({
      count: 2,
      redisUrlFor: (index) => (index === 0 ? `redis://127.0.0.1:${proxy.port}${db}` : undefined),
    });
    cleanups.push(() => cluster.dispose());
    const [cut, whole] = cluster.nodes as [NodeProcess, NodeProcess];
    const mallory = await connect(whole, 'mallory');
    await mallory.request('register', { password: PASSWORD });
    await mallory.quit();
    const carol = await connect(cut, 'carol');
    const admin = await connect(whole, 'admin', TEST_ADMIN_PASSWORD);
    expect(await ready(cut)).toBe(200);

    let carolClosedAt = 0;
    const carolClosed = carol.closed().then((info) => {
      carolClosedAt = Date.now();
      return info;
    });
    proxy.cut();
    const cutAt = Date.now();
    // Meanwhile, on the node that still has Redis: a ban, and someone wanting carol's name.
    await admin.request('ban', { nick: 'mallory' });
    let takenAt = 0;
    await until(
      'carol’s name to be free on the other node',
      async () => {
        const next = await ChatClient.connect({ host: '127.0.0.1', port: whole.port });
        cleanups.push(() => next.destroy());
        try {
          await next.login('carol');
          takenAt = Date.now();
          return true;
        } catch {
          next.destroy();
          return false;
        }
      },
      15_000,
      200,
    );
    // Never two carols: the cut-off node let its carol go before the other took the name.
    expect(await carolClosed).toMatchObject({ code: 'shutting_down' });
    expect(carolClosedAt).toBeGreaterThan(0);
    expect(carolClosedAt).toBeLessThanOrEqual(takenAt);
    expect(carolClosedAt - cutAt).toBeLessThan(7_000);
    expect(await ready(cut)).toBe(503);
    const refused = await ChatClient.connect({ host: '127.0.0.1', port: cut.port });
    cleanups.push(() => refused.destroy());
    await expect(refused.login('dave')).rejects.toMatchObject({ code: 'shutting_down' });

    proxy.heal();
    await until(
      'the cut node to be ready again',
      async () => (await ready(cut)) === 200,
      15_000,
      250,
    );
    // The ban made while it was cut off holds there too.
    const again = await ChatClient.connect({ host: '127.0.0.1', port: cut.port });
    cleanups.push(() => again.destroy());
    await expect(again.login('mallory', PASSWORD)).rejects.toMatchObject({ code: 'banned' });
    const erin = await connect(cut, 'erin');
    const seen = erin.waitFor((event) => event.ev === 'message' && event.text === 'all well');
    await admin.request('say', { text: 'all well' });
    await seen;
  }, 60_000);
});
