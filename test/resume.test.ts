import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

/** Waits (bounded) until `who` shows `nick` with `status`. */
async function waitForStatus(observer: ChatClient, nick: string, status: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { users } = await observer.request<{ users: { nick: string; status: string }[] }>('who');
    if (users.some((user) => user.nick === nick && user.status === status)) return;
    await sleep(20);
  }
  throw new Error(`${nick} never became ${status}`);
}

async function refusal(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

const texts = (events: ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'message' || event.ev === 'private' ? [event.text] : []));

/** Dora logs in again from a new connection: the texts of the `ev` events replayed as missed. */
async function missedAtLogin(
  server: TestServer,
  ev: 'message' | 'private',
): Promise<{ back: ChatClient; missed: string[] }> {
  const back = await server.open();
  const events = collect(back);
  await back.login('dora', 'correct horse battery');
  await back.request('ping');
  const missed = events.flatMap((e) =>
    (e.ev === 'message' || e.ev === 'private') && e.ev === ev && e.replay === 'missed'
      ? [e.text]
      : [],
  );
  return { back, missed };
}

describe('session resume', () => {
  it('gives back the session and every missed event, in order, once', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const aliceEvents = collect(alice);
    const bob = await server.connect('bob');
    const firstToken = bob.resumeToken!;
    expect(firstToken).toMatch(/^[A-Za-z0-9_-]{24}$/);

    const seen = bob.waitFor((e) => e.ev === 'message' && e.text === 'one');
    await alice.request('say', { text: 'one' });
    await seen;
    const lastEventId = bob.lastEventId!;
    bob.destroy();
    await waitForStatus(alice, 'bob', 'away');

    await alice.request('say', { text: 'two' });
    await alice.request('msg', { to: ['bob'], text: 'three' });
    await alice.request('say', { text: 'four' });

    const again = await server.open();
    const events = collect(again);
    const ready = await again.resume(firstToken, lastEventId);
    expect(ready).toMatchObject({ nick: 'bob', session: bob.sessionId, resumed: true });
    expect(ready.resumeToken).toBeDefined();
    expect(ready.resumeToken).not.toBe(firstToken);
    await again.request('ping');
    const live = again.waitFor((e) => e.ev === 'message' && e.text === 'five');
    await alice.request('say', { text: 'five' });
    await live;
    expect(texts(events)).toEqual(['two', 'three', 'four', 'five']);
    await waitForStatus(alice, 'bob', 'active');
    // Others never saw bob leave.
    expect(aliceEvents.filter((e) => e.ev === 'offline')).toEqual([]);

    // The token was single-use: the first one no longer works, a forged one never did.
    const third = await server.open();
    expect((await refusal(third.resume(firstToken))).code).toBe('resume_failed');
    expect((await refusal(third.resume('AAAAAAAAAAAAAAAAAAAAAAAA', 0))).code).toBe('resume_failed');
    // After a refused resume the connection logs in normally.
    await expect(third.login('carol')).resolves.toMatchObject({ nick: 'carol' });
  });

  it('replays only what the client did not get when it says what it last saw', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const token = bob.resumeToken!;
    const got = bob.waitFor((e) => e.ev === 'message' && e.text === 'b');
    await alice.request('say', { text: 'a' });
    await alice.request('say', { text: 'b' });
    await got;
    // Pretend only "a" arrived before the crash: "b" must come again, "a" must not.
    const lastSeen = bob.lastEventId! - 1;
    bob.destroy();
    await waitForStatus(alice, 'bob', 'away');
    const again = await server.open();
    const events = collect(again);
    await again.resume(token, lastSeen);
    await again.request('ping');
    expect(texts(events)).toEqual(['b']);
  });

  it('keeps the rooms: the new connection is told them, and gets what was said in them', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await alice.request('create', { room: 'den' });
    await bob.request('join', { room: 'den' });
    const token = bob.resumeToken!;
    const lastEventId = bob.lastEventId!;
    bob.destroy();
    await waitForStatus(alice, 'bob', 'away');
    await alice.request('say', { room: 'den', text: 'in the den' });
    const again = await server.open();
    const events = collect(again);
    await again.resume(token, lastEventId);
    await again.request('ping');
    expect(texts(events)).toEqual(['in the den']);
    expect(events.find((e) => e.ev === 'room_entered')).toMatchObject({
      room: 'den',
      restored: true,
    });
    expect(again.rooms.has('den')).toBe(true);
    const got = again.waitFor((e) => e.ev === 'message' && e.text === 'still here');
    await alice.request('say', { room: 'den', text: 'still here' });
    await got;
  });

  it('ends the session after the grace period, and the token with it', async () => {
    server = await startTestServer({ set: { 'resume.graceSeconds': 1 } });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const token = bob.resumeToken!;
    const left = alice.waitFor((e) => e.ev === 'offline' && e.nick === 'bob');
    bob.destroy();
    await waitForStatus(alice, 'bob', 'away');
    expect(await left).toMatchObject({ reason: 'dropped' });
    const late = await server.open();
    expect((await refusal(late.resume(token))).code).toBe('resume_failed');
    await expect(late.login('bob')).resolves.toMatchObject({ nick: 'bob' });
  });

  it('keeps an account session while away and logs in over it with the password', async () => {
    server = await startTestServer();
    const dora = await server.connect('dora');
    await dora.request('register', { password: 'correct horse battery' });
    dora.destroy();
    const alice = await server.connect('alice');
    await waitForStatus(alice, 'dora', 'away');
    const back = await server.open();
    await expect(back.login('dora', 'correct horse battery')).resolves.toMatchObject({
      nick: 'dora',
      account: true,
    });
  });

  it('a session never resumed leaves what it was sent while away to the next login', async () => {
    // Logged in over from a new connection (as a client does that lands elsewhere): what
    // waited for the resume comes as missed messages, none lost, none twice.
    server = await startTestServer();
    const dora = await server.connect('dora');
    await dora.request('register', { password: 'correct horse battery' });
    await dora.request('create', { room: 'den' });
    const alice = await server.connect('alice');
    await alice.request('join', { room: 'den' });
    await alice.request('say', { room: 'den', text: 'seen live' });
    await dora.request('ping');
    dora.destroy();
    await waitForStatus(alice, 'dora', 'away');
    await alice.request('say', { text: 'lobby while away' });
    await alice.request('say', { room: 'den', text: 'den while away' });
    const { missed } = await missedAtLogin(server, 'message');
    expect(missed).toEqual(['lobby while away', 'den while away']);
  });

  it('a private message sent to a session away that is never resumed waits for the next login, unread', async () => {
    // The grace period ends: what the away session was sent never reached anyone.
    server = await startTestServer({ set: { 'resume.graceSeconds': 1 } });
    const dora = await server.connect('dora');
    await dora.request('register', { password: 'correct horse battery' });
    const alice = await server.connect('alice');
    await alice.request('msg', { to: ['dora'], text: 'seen live' });
    await dora.request('ping');
    dora.destroy();
    await waitForStatus(alice, 'dora', 'away');
    const reply = await alice.request('msg', { to: ['dora'], text: 'while away' });
    expect(reply).toMatchObject({ delivered: ['dora'] });
    await alice.waitFor((e) => e.ev === 'offline' && e.nick === 'dora');
    const { back, missed } = await missedAtLogin(server, 'private');
    expect(missed).toEqual(['while away']);
    // Shown as missed is read, as for any offline message; seen live was never unread.
    const inbox = await back.request<{ messages: { text: string }[] }>('inbox');
    expect(inbox.messages).toEqual([]);

    // Logged in over from a new connection while away: the same, at that login.
    back.destroy();
    await waitForStatus(alice, 'dora', 'away');
    await alice.request('msg', { to: ['dora'], text: 'away again' });
    const again = await server.open();
    const atAgain = collect(again);
    await again.login('dora', 'correct horse battery');
    await again.request('ping');
    expect(
      atAgain.flatMap((e) => (e.ev === 'private' && e.replay === 'missed' ? [e.text] : [])),
    ).toEqual(['away again']);
  });

  it('a private message that fell out of the away log still waits for the next login', async () => {
    // The away log keeps the last 1,000 events: 'first' falls out of it behind the lobby's
    // chatter, and the session ends without a resume (a login over it).
    server = await startTestServer({
      set: { 'flood.burst': 100_000, 'flood.perSecond': 100_000 },
    });
    const dora = await server.connect('dora');
    await dora.request('register', { password: 'correct horse battery' });
    const alice = await server.connect('alice');
    dora.destroy();
    await waitForStatus(alice, 'dora', 'away');
    await alice.request('msg', { to: ['dora'], text: 'first' });
    await Promise.all(
      Array.from({ length: 1_050 }, (_, i) => alice.request('say', { text: `chatter ${i}` })),
    );
    await alice.request('msg', { to: ['dora'], text: 'last' });
    const { missed } = await missedAtLogin(server, 'private');
    expect(missed).toEqual(['first', 'last']);
  });

  it('leaves at once when resume is off', async () => {
    server = await startTestServer({ set: { 'resume.graceSeconds': 0 } });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const left = alice.waitFor((e) => e.ev === 'offline' && e.nick === 'bob');
    bob.destroy();
    expect(await left).toMatchObject({ reason: 'dropped' });
  });
});
