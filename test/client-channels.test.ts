import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, ConnectionClosedError } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { ResumePoint } from '../src/client/resume.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The shared client library over its two channels: native TCP and a WebSocket (`/ws`, the
 * browser's endpoint, here through the `ws` package). The same `ProtocolClient` logic runs
 * on both; these cases show requests, events, keepalives and resume work over either.
 */
let server: TestServer | undefined;
const opened: ChatClient[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) client.destroy();
  await server?.dispose();
  server = undefined;
});

function wsUrl(test: TestServer): string {
  return `ws://127.0.0.1:${test.server.webAddress!.port}/ws`;
}

async function overWebSocket(test: TestServer): Promise<ChatClient> {
  const client = await ChatClient.connectWebSocket(wsUrl(test));
  opened.push(client);
  return client;
}

const texts = (events: ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'message' || event.ev === 'private' ? [event.text] : []));

describe('the client library over a WebSocket channel', () => {
  it('greets, fetches the catalogue, and chats with a native client both ways', async () => {
    server = await startTestServer({ web: true });
    const web = await overWebSocket(server);
    expect(web.hello.ev).toBe('hello');
    expect(web.commands.some((command) => command.name === 'say')).toBe(true);
    const ready = await web.login('webby');
    expect(ready.nick).toBe('webby');
    expect(web.resumeToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const native = await server.connect('tcpuser');

    const heard = web.waitFor((e) => e.ev === 'message' && e.text === 'from tcp');
    await native.request('say', { text: 'from tcp' });
    await heard;
    const heardBack = native.waitFor((e) => e.ev === 'private' && e.text === 'from ws');
    const sent = await web.request<{ mid: number }>('msg', { to: ['tcpuser'], text: 'from ws' });
    expect(typeof sent.mid).toBe('number');
    const privateEvent = await heardBack;
    expect(privateEvent).toMatchObject({ ev: 'private', from: 'webby' });
  });

  it('answers the server keepalive, so a quiet WebSocket client stays connected', async () => {
    server = await startTestServer({
      web: true,
      set: { 'ping.intervalSeconds': 1, 'ping.timeoutSeconds': 2 },
    });
    const web = await overWebSocket(server);
    await web.login('quiet');
    const pinged = web.waitFor((e) => e.ev === 'ping', 3000);
    await pinged;
    // Past the timeout of a client that would not answer: still connected.
    await sleep(2500);
    expect(web.isClosed).toBe(false);
    expect((await web.request<{ users: unknown[] }>('who')).users.length).toBe(1);
  });

  it('resumes over a WebSocket a session begun over TCP, with the missed events in order', async () => {
    server = await startTestServer({ web: true });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const seen = bob.waitFor((e) => e.ev === 'message' && e.text === 'one');
    await alice.request('say', { text: 'one' });
    await seen;
    const token = bob.resumeToken!;
    const lastEventId = bob.lastEventId!;
    bob.destroy();
    await alice.request('say', { text: 'two' });
    await alice.request('msg', { to: ['bob'], text: 'three' });

    const web = await overWebSocket(server);
    const events: ServerEvent[] = [];
    web.on('event', (event) => events.push(event));
    const replayed = web.waitFor((e) => e.ev === 'private' && e.text === 'three');
    const ready = await web.resume(token, lastEventId);
    expect(ready).toMatchObject({ nick: 'bob', resumed: true });
    await replayed;
    expect(texts(events)).toEqual(['two', 'three']);
    expect(web.resumeToken).not.toBe(token);
    // The position the library keeps is the last replayed event's, ready for the next resume.
    expect(web.lastEventId).toBe((events.at(-1) as { id: number }).id);
  });

  it('says which URL it could not reach, as a ConnectionClosedError', async () => {
    server = await startTestServer({ web: true });
    const url = `ws://127.0.0.1:${server.server.webAddress!.port}/no-such-endpoint`;
    const error = await ChatClient.connectWebSocket(url, { timeoutMs: 3000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toContain(url);
  });
});

describe('ResumePoint (what the terminal and the page keep across connections)', () => {
  it('resumes where the last connection stopped, then asks for a fresh login once the token is refused', async () => {
    server = await startTestServer({ web: true });
    const alice = await server.connect('alice');
    const point = new ResumePoint();
    const first = await overWebSocket(server);
    point.follow(first);
    point.loggedIn(await first.login('bob'));
    const heard = first.waitFor((e) => e.ev === 'message' && e.text === 'before');
    await alice.request('say', { text: 'before' });
    await heard;
    first.destroy();
    await alice.request('say', { text: 'while away' });

    const second = await overWebSocket(server);
    point.follow(second);
    const events: ServerEvent[] = [];
    second.on('event', (event) => events.push(event));
    const replayed = second.waitFor((e) => e.ev === 'message' && e.text === 'while away');
    const outcome = await point.resume(second);
    expect(outcome).toMatchObject({ kind: 'resumed', ready: { nick: 'bob', resumed: true } });
    await replayed;
    expect(texts(events)).toEqual(['while away']);
    expect(point.token).toBe(second.resumeToken);
    expect(point.lastEventId).toBe(second.lastEventId);

    // A token the server no longer knows (here: ended by quit) is a fresh login, not an error.
    const stale = point.token;
    await second.quit();
    const third = await overWebSocket(server);
    point.loggedIn({ ...(await third.login('carol')), resumeToken: stale });
    const fourth = await overWebSocket(server);
    const refused = await point.resume(fourth);
    expect(refused).toMatchObject({ kind: 'refused', error: { code: 'resume_failed' } });
    expect(point.token).toBeUndefined();
    expect(await point.resume(fourth)).toEqual({ kind: 'none' });
  });
});
