import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseInput } from '../src/client/input-parser.js';
import { collect, failure, ofKind } from './helpers/events.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.dispose();
});

describe('rooms', () => {
  it('work end to end for three clients: create, join, talk, leave, topic, close', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const [aliceEvents, bobEvents, carolEvents] = [collect(alice), collect(bob), collect(carol)];

    expect(await alice.request('create', { room: 'Dev' })).toMatchObject({
      room: 'Dev',
      owner: 'alice',
    });
    expect((await failure(carol.request('create', { room: 'dev' }))).code).toBe('room_exists');
    expect((await failure(carol.request('create', { room: 'lobby' }))).code).toBe('room_exists');
    expect((await failure(carol.request('create', { room: 'no spaces' }))).code).toBe(
      'invalid_room',
    );

    const bobJoinSeen = alice.waitFor((e) => e.ev === 'room_join');
    expect(await bob.request('join', { room: 'dev' })).toMatchObject({ room: 'Dev', members: 2 });
    expect(await bobJoinSeen).toMatchObject({ room: 'Dev', nick: 'bob' });
    expect((await failure(bob.request('join', { room: 'dev' }))).code).toBe('already_in_room');
    expect((await failure(bob.request('join', { room: 'nowhere' }))).code).toBe('unknown_room');
    expect(bob.rooms.has('dev')).toBe(true);
    expect(alice.rooms.get('dev')?.owner).toBe('alice');

    // Messages reach members only.
    const toAlice = alice.waitFor((e) => e.ev === 'message');
    await bob.request('say', { room: 'dev', text: 'members only' });
    expect(await toAlice).toMatchObject({ room: 'Dev', from: 'bob', text: 'members only' });
    expect((await failure(carol.request('say', { room: 'dev', text: 'let me in' }))).code).toBe(
      'unknown_room',
    );

    const { rooms } = await carol.request<{ rooms: Record<string, unknown>[] }>('rooms');
    expect(rooms).toContainEqual(
      expect.objectContaining({ name: 'Dev', owner: 'alice', members: 2, joined: false }),
    );
    expect(rooms[0]).toMatchObject({ name: 'lobby', members: 3 });
    expect(await carol.request('members', { room: 'dev' })).toMatchObject({
      room: 'Dev',
      owner: 'alice',
      members: [
        { nick: 'alice', online: true, owner: true },
        { nick: 'bob', online: true, owner: false },
      ],
    });

    await carol.request('join', { room: 'dev' });
    const bobLeft = carol.waitFor((e) => e.ev === 'room_leave');
    expect(await bob.request('leave', { room: 'dev' })).toEqual({ room: 'Dev' });
    expect(await bobLeft).toMatchObject({ room: 'Dev', nick: 'bob' });
    expect(bob.rooms.has('dev')).toBe(false);
    expect((await failure(bob.request('leave', { room: 'dev' }))).code).toBe('unknown_room');
    expect((await failure(bob.request('leave', { room: 'lobby' }))).code).toBe('lobby_fixed');

    // Only the owner (or an admin) sets the topic or closes the room.
    expect((await failure(carol.request('topic', { room: 'dev', text: 'mine' }))).code).toBe(
      'not_room_owner',
    );
    const topicSeen = carol.waitFor((e) => e.ev === 'room_topic');
    await alice.request('topic', { room: 'dev', text: 'shipping friday' });
    expect(await topicSeen).toMatchObject({ topic: 'shipping friday', by: 'alice' });
    expect(await carol.request('topic', { room: 'dev' })).toEqual({
      room: 'Dev',
      topic: 'shipping friday',
    });
    expect((await failure(carol.request('close', { room: 'dev' }))).code).toBe('not_room_owner');

    const closedForCarol = carol.waitFor((e) => e.ev === 'room_closed');
    expect(await alice.request('close', { room: 'dev' })).toEqual({ room: 'Dev' });
    expect(await closedForCarol).toMatchObject({ room: 'Dev', by: 'alice' });
    expect(carol.rooms.has('dev')).toBe(false);
    expect(carol.rooms.has('lobby')).toBe(true);
    expect((await failure(carol.request('say', { room: 'dev', text: 'hello?' }))).code).toBe(
      'unknown_room',
    );
    const after = await bob.request<{ rooms: { name: string }[] }>('rooms');
    expect(after.rooms.map((room) => room.name)).toEqual(['lobby']);

    await Promise.all([alice.request('ping'), bob.request('ping'), carol.request('ping')]);
    // Bob had left: he saw neither the topic nor the closing; nobody got their own join.
    expect(ofKind(bobEvents, 'room_topic')).toEqual([]);
    expect(ofKind(bobEvents, 'room_closed')).toEqual([]);
    // Carol saw the earlier message only as history when she joined, never live.
    expect(ofKind(carolEvents, 'message').filter((m) => m.room === 'Dev')).toMatchObject([
      { text: 'members only', replay: 'history' },
    ]);
    expect(ofKind(aliceEvents, 'room_join').map((e) => e.nick)).toEqual(['bob', 'carol']);
    expect(ofKind(aliceEvents, 'room_closed')).toHaveLength(1);
  });

  it("an admin closes anyone's room; a guest's room vanishes when empty", async () => {
    const admin = await server.connect('admin', 'test-admin-password-1');
    const bob = await server.connect('bob');
    await bob.request('create', { room: 'bobs' });
    const closed = bob.waitFor((e) => e.ev === 'room_closed');
    await admin.request('close', { room: 'bobs' });
    expect(await closed).toMatchObject({ room: 'bobs', by: 'admin' });

    await bob.request('create', { room: 'temp' });
    const carol = await server.connect('carol');
    await carol.request('join', { room: 'temp' });
    await bob.quit();
    let names = (await carol.request<{ rooms: { name: string }[] }>('rooms')).rooms;
    expect(names.map((room) => room.name)).toContain('temp');
    await carol.request('leave', { room: 'temp' });
    names = (await carol.request<{ rooms: { name: string }[] }>('rooms')).rooms;
    expect(names.map((room) => room.name)).toEqual(['lobby']);
  });

  it('a guest owner keeps its room under a new nickname', async () => {
    const bob = await server.connect('bob');
    await bob.request('create', { room: 'bobs' });
    await bob.request('nick', { nick: 'robert' });
    const { rooms } = await bob.request<{ rooms: { name: string; owner: string }[] }>('rooms');
    expect(rooms).toContainEqual(expect.objectContaining({ name: 'bobs', owner: 'robert' }));
    await expect(bob.request('close', { room: 'bobs' })).resolves.toEqual({ room: 'bobs' });
  });

  it('typed lines act on the current room: bye leaves it, exit closes your own', async () => {
    const alice = await server.connect('alice');
    const context = { commands: alice.commands, currentRoom: 'dev' };
    expect(parseInput('bye', context)).toMatchObject({
      kind: 'request',
      command: { name: 'leave' },
      args: { room: 'dev' },
    });
    expect(parseInput('exit', { ...context, ownsCurrentRoom: true })).toMatchObject({
      command: { name: 'close' },
      args: { room: 'dev' },
    });
    expect(parseInput('/history 5', context)).toMatchObject({
      command: { name: 'history' },
      args: { room: 'dev', count: 5 },
    });
    expect(parseInput('/leave other', context)).toMatchObject({ args: { room: 'other' } });
    expect(parseInput('/topic hello there', context)).toMatchObject({
      args: { room: 'dev', text: 'hello there' },
    });
  });
});
