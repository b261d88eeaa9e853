import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { collect, failure, until } from '../helpers/events.js';
import { startRedisNodes, type RedisNodes } from '../helpers/redis-nodes.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 9';

let cluster: RedisNodes | undefined;
afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

const texts = (events: ServerEvent[], ev: string) =>
  events.filter((event) => event.ev === ev).map((event) => (event as { text?: string }).text);

async function settled(...clients: ChatClient[]): Promise<void> {
  for (const client of clients) await client.request('ping');
}

describe('nodes on PostgreSQL and Redis (--store postgres://… --bus redis://…)', () => {
  it('carries chat across nodes once and in order, and holds each nickname once', async () => {
    cluster = await startRedisNodes(3);
    const [alice, bob, carol] = await Promise.all([
      cluster.connect(0, 'alice'),
      cluster.connect(1, 'bob'),
      cluster.connect(2, 'carol'),
    ]);
    // A listener on the cluster's broadcast channel counts what crosses Redis.
    const { Redis } = await import('ioredis');
    const listener = new Redis(cluster.busUrl.split('?')[0]!);
    const crossed: string[] = [];
    listener.on('message', (_channel: string, payload: string) => crossed.push(payload));
    await listener.subscribe(`${cluster.prefix}bus`);
    const atBob = collect(bob);
    const atCarol = collect(carol);
    const sent = Array.from({ length: 30 }, (_, i) => `lobby ${i}`);
    for (const text of sent) await alice.request('say', { text });
    await alice.request('create', { room: 'games' });
    // Other nodes learn of the room through the bus, a moment after the creator's reply.
    await until(
      'the room games on every node',
      () => cluster!.nodes.every((node) => node.core.rooms.get('games') !== undefined),
      5_000,
      10,
    );
    await bob.request('join', { room: 'games' });
    await carol.request('join', { room: 'games' });
    await alice.request('say', { room: 'games', text: 'in the room' });
    await alice.request('msg', { to: ['bob', 'carol'], text: 'to both of you' });
    await until(
      'every message at carol and bob',
      () => texts(atCarol, 'message').length === 31 && texts(atBob, 'private').length === 1,
      5_000,
      10,
    );
    await settled(alice, bob, carol);
    for (const events of [atBob, atCarol])
      expect(texts(events, 'message')).toEqual([...sent, 'in the room']);
    expect(texts(atCarol, 'private')).toEqual(['to both of you']);
    // One PUBLISH per event whatever the number of recipients (here two, on two nodes).
    const published = (text: string) => crossed.filter((each) => each.includes(text)).length;
    expect(published('"in the room"')).toBe(1);
    expect(published('"to both of you"')).toBe(1);
    expect(published('"lobby 7"')).toBe(1);
    listener.disconnect();

    const who = await carol.request<{ users: { nick: string }[] }>('who');
    expect(who.users.map((user) => user.nick)).toEqual(['alice', 'bob', 'carol']);
    for (const node of [0, 1, 2]) {
      const again = await cluster.open(node);
      expect((await failure(again.login('ALICE'))).code, `node ${node}`).toBe('nick_taken');
    }
    // Freed on leave, for every node.
    await alice.quit();
    await until(
      'a login on node 3',
      async () => {
        const next = await cluster!.open(2);
        return next.login('alice').then(
          () => true,
          () => {
            next.destroy();
            return false;
          },
        );
      },
      5_000,
      100,
    );
  });

  it('shows who left on another node in /wholasthr and /whois', async () => {
    cluster = await startRedisNodes(2);
    const guest = await cluster.connect(0, 'wanderer');
    const watcher = await cluster.connect(1, 'watcher');
    const gone = watcher.waitFor((event) => event.ev === 'offline' && event.nick === 'wanderer');
    await guest.quit();
    await gone;
    const seen = await watcher.request<{ seen: { nick: string; online: boolean }[] }>('wholasthr');
    expect(seen.seen.find((each) => each.nick === 'wanderer')).toMatchObject({ online: false });
    const whois = await watcher.request<{ online: boolean; lastSeen: number }>('whois', {
      name: 'wanderer',
    });
    expect(whois.online).toBe(false);
    expect(whois.lastSeen).toBeGreaterThan(Date.now() - 60_000);
  });

  it('makes bans, suspensions, the lock and live config take effect on every node within 1 s', async () => {
    cluster = await startRedisNodes(3);
    const admin = await cluster.connect(0, 'admin', TEST_ADMIN_PASSWORD);
    const dave = await cluster.connect(1, 'dave');
    await dave.request('register', { password: PASSWORD });
    const erin = await cluster.connect(2, 'erin');
    const daveClosed = dave.closed();

    await admin.request('ban', { nick: 'dave' });
    const bannedAt = Date.now();
    expect(await daveClosed).toMatchObject({ code: 'banned' });
    for (const node of [1, 2]) {
      const again = await cluster.open(node);
      expect((await failure(again.login('dave', PASSWORD))).code, `node ${node}`).toBe('banned');
    }
    expect(Date.now() - bannedAt).toBeLessThan(1_000);

    await admin.request('suspend', { nick: 'erin' });
    const suspendedAt = Date.now();
    expect((await failure(erin.request('say', { text: 'hello?' }))).code).toBe('suspended');
    expect(Date.now() - suspendedAt).toBeLessThan(1_000);

    const node2 = cluster.nodes[2]!;
    const before = node2.config.params.maxUsers;
    await admin.request('config', { key: 'maxUsers', value: String(before + 7) });
    const configSeen = await until(
      'the new maxUsers on node 2',
      () => node2.config.params.maxUsers === before + 7,
      1_000,
      10,
    );
    expect(configSeen).toBeLessThan(1_000);

    await admin.request('lock');
    const lockedAt = Date.now();
    const newcomer = await cluster.open(1);
    expect((await failure(newcomer.login('frank'))).code).toBe('server_locked');
    expect(Date.now() - lockedAt).toBeLessThan(1_000);
  });

  it('closes its sessions and refuses logins on a node that lost its lease, until it holds one again', async () => {
    cluster = await startRedisNodes(2);
    const victim = await cluster.connect(0, 'grace');
    const closed = victim.closed();
    // Another process "took" node-0's lease: node-0 learns it at its next renewal.
    const { Redis } = await import('ioredis');
    const redis = new Redis(cluster.busUrl.split('?')[0]!);
    try {
      await redis.set(`${cluster.prefix}lease:node-0`, 'someone-else', 'PX', 3_000);
    } finally {
      redis.disconnect();
    }
    expect(await closed).toMatchObject({ code: 'shutting_down' });
    const refused = await cluster.open(0);
    expect((await failure(refused.login('grace'))).code).toBe('shutting_down');
    // Node 1 takes the name at once: node 0's entries went with its lease.
    await cluster.connect(1, 'grace');
    // And node 0 comes back once the other holder is gone.
    await until(
      'a login on node 1 again',
      async () => {
        const again = await cluster!.open(0);
        return again.login('heidi').then(
          () => true,
          () => {
            again.destroy();
            return false;
          },
        );
      },
      10_000,
      250,
    );
  }, 20_000);

  it('makes a room known on every node before the reply to its creation', async () => {
    cluster = await startRedisNodes(3);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const carol = await cluster.connect(2, 'carol');
    // A guest's room lives in each node's memory only: the join, sent to another node the
    // moment the creation is answered, finds it there (or the other node never heard).
    for (let i = 0; i < 20; i++) {
      await alice.request('create', { room: `quick${i}` });
      await Promise.all([
        bob.request('join', { room: `quick${i}` }),
        carol.request('join', { room: `quick${i}` }),
      ]);
    }
  });

  it('applies a topic and a closing on every node before their replies', async () => {
    cluster = await startRedisNodes(3);
    const alice = await cluster.connect(0, 'alice');
    await alice.request('register', { password: PASSWORD });
    const bob = await cluster.connect(1, 'bob');
    const carol = await cluster.connect(2, 'carol');
    // Asked through the other nodes the moment the reply comes: each must answer with the
    // change (a copy not yet changed shows the old topic, or lets one join a closed room).
    for (let i = 0; i < 20; i++) {
      const room = `swift${i}`;
      await alice.request('create', { room });
      await alice.request('topic', { room, text: `topic ${i}` });
      const topics = await Promise.all(
        [bob, carol].map((client) => client.request<{ topic: string }>('topic', { room })),
      );
      expect(
        topics.map((reply) => reply.topic),
        `round ${i}`,
      ).toEqual([`topic ${i}`, `topic ${i}`]);
      await alice.request('close', { room });
      const joins = await Promise.all(
        [bob, carol].map((client) => failure(client.request('join', { room }))),
      );
      expect(
        joins.map((error) => error.code),
        `round ${i}`,
      ).toEqual(['unknown_room', 'unknown_room']);
    }
  }, 30_000);
});
