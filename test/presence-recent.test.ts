import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, failure, makeAccount } from './helpers/events.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  server = await startTestServer({ clock, set: { 'presence.recentSeconds': 60 } });
});
afterEach(async () => {
  await server.dispose();
});

type SeenReply = {
  seen: { nick: string; online: boolean; account: boolean; lastSeen: number }[];
  windowSeconds: number;
};

describe('recent presence', () => {
  it('/wholasthr lists everyone seen within the window, you excluded', async () => {
    await makeAccount(server, 'dora');
    const accountLeft = clock.now();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    clock.advance(10_000);
    await carol.quit();
    const carolLeft = clock.now();

    let reply = await alice.request<SeenReply>('wholasthr');
    expect(reply.windowSeconds).toBe(60);
    expect(reply.seen).toEqual([
      { nick: 'bob', online: true, account: false, lastSeen: expect.any(Number) },
      { nick: 'carol', online: false, account: false, lastSeen: carolLeft },
      { nick: 'dora', online: false, account: true, lastSeen: accountLeft },
    ]);

    // Past the window, only those still online remain.
    clock.advance(61_000);
    reply = await alice.request<SeenReply>('wholasthr');
    expect(reply.seen.map((user) => user.nick)).toEqual(['bob']);
    reply = await bob.request<SeenReply>('wholasthr');
    expect(reply.seen.map((user) => user.nick)).toEqual(['alice']);
  });

  it('/whois tells last seen, rooms, idle time, account or guest', async () => {
    await makeAccount(server, 'dora');
    const dora = await server.connect('dora', PASSWORD);
    await dora.request('create', { room: 'ops' });
    const alice = await server.connect('alice');
    clock.advance(120_000);

    expect(await alice.request('whois', { name: 'DORA' })).toMatchObject({
      nick: 'dora',
      online: true,
      account: true,
      role: 'user',
      status: 'active',
      idleSeconds: 120,
      rooms: expect.arrayContaining(['lobby', 'ops']),
    });
    await dora.quit();
    const left = clock.now();
    expect(await alice.request('whois', { name: 'dora' })).toEqual({
      nick: 'dora',
      online: false,
      account: true,
      role: 'user',
      lastSeen: left,
      rooms: ['ops'],
    });

    const guest = await server.connect('guest');
    await guest.quit();
    expect(await alice.request('whois', { name: 'guest' })).toMatchObject({
      nick: 'guest',
      online: false,
      account: false,
      lastSeen: clock.now(),
      rooms: [],
    });
    expect((await failure(alice.request('whois', { name: 'nobody' }))).code).toBe('unknown_user');
  });
});
