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
import { rmSync } from 'node:fs';

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

describe('history on join', () => {
  it('replays the last history.replay messages, marked, after the reply, then pages', async () => {
    const server = await start({ set: { 'history.replay': 2 } });
    const alice = await server.connect('alice');
    await alice.request('create', { room: 'dev' });
    const sent = [];
    for (const text of ['one', 'two', 'three'])
      sent.push(await alice.request<{ mid: number; ts: number }>('say', { room: 'dev', text }));

    const bob = await server.connect('bob');
    const events = collect(bob);
    await bob.request('join', { room: 'dev' });
    await bob.request('ping');
    const history = ofKind(events, 'message');
    expect(history).toMatchObject([
      { room: 'dev', from: 'alice', text: 'two', replay: 'history', mid: sent[1]!.mid },
      { room: 'dev', from: 'alice', text: 'three', replay: 'history', mid: sent[2]!.mid },
    ]);
    // The original time, not the time of the replay.
    expect(history[0]!.ts).toBe(sent[1]!.ts);
    expect(events[0]).toMatchObject({ ev: 'room_entered', room: 'dev', restored: false });

    // Live messages after the join are not marked.
    const live = bob.waitFor((e) => e.ev === 'message');
    await alice.request('say', { room: 'dev', text: 'four' });
    expect(await live).not.toHaveProperty('replay');

    const page = await bob.request<{ messages: { mid: number; text: string }[]; more: boolean }>(
      'history',
      { room: 'dev', count: 2 },
    );
    expect(page.messages.map((m) => m.text)).toEqual(['three', 'four']);
    expect(page.more).toBe(true);
    const older = await bob.request<{ messages: { text: string }[]; more: boolean }>('history', {
      room: 'dev',
      count: 10,
      before: page.messages[0]!.mid,
    });
    expect(older).toMatchObject({ messages: [{ text: 'one' }, { text: 'two' }], more: false });

    const carol = await server.connect('carol');
    expect((await failure(carol.request('history', { room: 'dev' }))).code).toBe('unknown_room');
    const lobby = await carol.request<{ messages: unknown[] }>('history', { room: 'lobby' });
    expect(lobby.messages).toEqual([]);
  });

  it('a room made again under a closed room’s name starts without its history', async () => {
    const server = await start();
    const alice = await server.connect('alice');
    await alice.request('create', { room: 'dev' });
    await alice.request('say', { room: 'dev', text: 'old secret' });
    await alice.request('close', { room: 'dev' });
    await alice.request('create', { room: 'dev' });
    const bob = await server.connect('bob');
    const events = collect(bob);
    await bob.request('join', { room: 'dev' });
    await bob.request('ping');
    expect(ofKind(events, 'message')).toEqual([]);
  });
});

describe('missed messages at login', () => {
  it('after a restart, an account gets its rooms back and what it missed, in order, once', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    let server = await start({ dataDir, set: { 'history.replay': 3 } });
    await makeAccount(server, 'alice');
    const alice = await server.connect('alice', PASSWORD);
    await alice.request('create', { room: 'ops' });
    await alice.request('say', { room: 'ops', text: 'seen before leaving' });
    const bob = await server.connect('bob');
    await bob.request('join', { room: 'ops' });
    await alice.quit();

    const said: number[] = [];
    for (const text of ['m1', 'm2', 'm3', 'm4'])
      said.push((await bob.request<{ mid: number }>('say', { room: 'ops', text })).mid);
    const pm = await bob.request<{ mid: number; stored: string[] }>('msg', {
      to: ['alice'],
      text: 'call me',
    });
    expect(pm.stored).toEqual(['alice']);
    said.push(
      (await bob.request<{ mid: number }>('say', { room: 'lobby', text: 'lobby news' })).mid,
    );
    await server.stop();

    server = await start({ dataDir, set: { 'history.replay': 3 } });
    const { events, client } = await connectRecording(server, 'alice', PASSWORD);
    expect(ofKind(events, 'room_entered')).toMatchObject([
      { room: 'ops', owner: 'alice', restored: true },
    ]);
    const missed = events.filter(
      (e) => (e.ev === 'message' || e.ev === 'private') && e.replay === 'missed',
    );
    // ops is capped at 3 (m2..m4); the private message and the lobby message come in order.
    expect(missed.map((e) => ('text' in e ? e.text : ''))).toEqual([
      'm2',
      'm3',
      'm4',
      'call me',
      'lobby news',
    ]);
    expect(missed.map((e) => ('mid' in e ? e.mid : 0))).toEqual([
      ...said.slice(1, 4),
      pm.mid,
      said[4],
    ]);
    expect(missed[3]).toMatchObject({ ev: 'private', from: 'bob', to: ['alice'] });
    // Told that ops had more (m1 is left out); the lobby had less than the cap.
    const told = ofKind(events, 'notice').filter((e) => e.text.startsWith('More was said'));
    expect(told.map((e) => e.text)).toEqual([
      'More was said while you were away than is replayed here (the last 3 per room) in #ops: /history shows older messages',
    ]);
    expect(events.indexOf(told[0]!)).toBeLessThan(events.indexOf(missed[0]!));
    expect(client.rooms.has('ops')).toBe(true);
    // Still a member after the restart: room messages reach alice live.
    const bob2 = await server.connect('bob');
    await bob2.request('join', { room: 'ops' });
    const live = client.waitFor((e) => e.ev === 'message' && e.room === 'ops');
    await bob2.request('say', { room: 'ops', text: 'welcome back' });
    expect(await live).toMatchObject({ text: 'welcome back' });
    await client.quit();

    // Delivered once: the next login does not replay the private message again.
    const again = await connectRecording(server, 'alice', PASSWORD);
    expect(ofKind(again.events, 'private')).toEqual([]);
  });
});
