import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  collect,
  connectRecording,
  failure,
  makeAccount,
  ofKind,
} from './helpers/events.js';
import { makeDataDir, startTestServer, type TestServer } from './helpers/server.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('blocking', () => {
  it('filters room and private messages on the server, silently', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    await alice.request('create', { room: 'dev' });
    await bob.request('join', { room: 'dev' });
    await carol.request('join', { room: 'dev' });
    const aliceEvents = collect(alice);

    expect(await alice.request('block', { name: 'Bob' })).toEqual({ blocked: 'bob' });
    expect(await alice.request('blocked')).toEqual({ blocked: ['bob'] });

    const carolGetsRoom = carol.waitFor((e) => e.ev === 'message' && e.room === 'dev');
    const carolGetsLobby = carol.waitFor((e) => e.ev === 'message' && e.room === 'lobby');
    await bob.request('say', { room: 'dev', text: 'in the room' });
    await bob.request('say', { room: 'lobby', text: 'in the lobby' });
    await carolGetsRoom;
    await carolGetsLobby;
    // The blocked sender is not told: the reply says delivered.
    const carolGetsPrivate = carol.waitFor((e) => e.ev === 'private');
    const pm = await bob.request('msg', { to: ['alice', 'carol'], text: 'psst' });
    expect(pm).toMatchObject({ delivered: ['carol', 'alice'], unknown: [] });
    await carolGetsPrivate;
    // Carol's message, sent after Bob's, arrives: so Bob's would have arrived by now.
    const fromCarol = alice.waitFor((e) => e.ev === 'message' && e.from === 'carol');
    await carol.request('say', { room: 'dev', text: 'from carol' });
    await fromCarol;
    expect(aliceEvents.filter((e) => 'from' in e && e.from === 'bob')).toEqual([]);
    // Not even in the inbox's read messages or the room's history.
    const history = await alice.request<{ messages: { from: string }[] }>('history', {
      room: 'dev',
    });
    expect(history.messages.map((m) => m.from)).toEqual(['carol']);

    expect(await alice.request('unblock', { name: 'bob' })).toEqual({ unblocked: 'bob' });
    const again = alice.waitFor((e) => e.ev === 'private');
    await bob.request('msg', { to: ['alice'], text: 'can you hear me now' });
    expect(await again).toMatchObject({ from: 'bob', text: 'can you hear me now' });
  });

  it('refuses blocking yourself, twice, nobody, and unblocking someone not blocked', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    await server.connect('bob');
    expect((await failure(alice.request('block', { name: 'ALICE' }))).code).toBe(
      'cannot_block_self',
    );
    await alice.request('block', { name: 'bob' });
    expect((await failure(alice.request('block', { name: 'bob' }))).code).toBe('already_blocked');
    expect((await failure(alice.request('block', { name: 'ghost' }))).code).toBe('unknown_user');
    expect((await failure(alice.request('unblock', { name: 'carol' }))).code).toBe('not_blocked');
  });

  it("an account's blocks survive a restart and also stop offline messages", async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    await makeAccount(server, 'alice');
    await makeAccount(server, 'bob');
    const alice = await server.connect('alice', PASSWORD);
    await alice.request('block', { name: 'bob' });
    await alice.quit();
    await server.stop();

    server = await start({ dataDir });
    const bob = await server.connect('bob', PASSWORD);
    const carol = await server.connect('carol');
    expect(await bob.request('msg', { to: ['alice'], text: 'let me in' })).toMatchObject({
      stored: ['alice'],
    });
    await carol.request('msg', { to: ['alice'], text: 'from carol' });
    const { client, events } = await connectRecording(server, 'alice', PASSWORD);
    expect(await client.request('blocked')).toEqual({ blocked: ['bob'] });
    expect(ofKind(events, 'private').map((e) => e.from)).toEqual(['carol']);
    const live = client.waitFor((e) => e.ev === 'private');
    await bob.request('msg', { to: ['alice'], text: 'and now?' });
    await carol.request('msg', { to: ['alice'], text: 'carol again' });
    expect(await live).toMatchObject({ from: 'carol', text: 'carol again' });
  });

  it('keeps the blocks a guest made when it registers, and those made right after', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir });
    await makeAccount(server, 'bob');
    await makeAccount(server, 'dave');
    const alice = await server.connect('alice');
    await alice.request('block', { name: 'bob' });
    await alice.request('register', { password: PASSWORD });
    await alice.request('block', { name: 'dave' });
    await alice.quit();
    // Offline: the account refuses both, before any new login.
    const bob = await server.connect('bob', PASSWORD);
    const dave = await server.connect('dave', PASSWORD);
    const carol = await server.connect('carol');
    await bob.request('msg', { to: ['alice'], text: 'from bob' });
    await dave.request('msg', { to: ['alice'], text: 'from dave' });
    await carol.request('msg', { to: ['alice'], text: 'from carol' });
    await server.stop();

    server = await start({ dataDir });
    const { client, events } = await connectRecording(server, 'alice', PASSWORD);
    expect(await client.request('blocked')).toEqual({ blocked: ['bob', 'dave'] });
    expect(ofKind(events, 'private').map((e) => e.from)).toEqual(['carol']);
  });

  it('is exposed to other features through core.isBlocking', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    await server.connect('bob');
    await alice.request('block', { name: 'bob' });
    const core = server.server.core;
    const aliceSession = core.findSession('alice')!;
    expect(core.isBlocking(aliceSession, 'bob')).toBe(true);
    expect(core.isBlocking(core.findSession('bob')!, 'alice')).toBe(false);
  });
});
