import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.dispose();
});

function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

describe('lobby messages', () => {
  it('reach every other session and are acknowledged, not echoed, to the sender', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const aliceEvents = collect(alice);
    const toBob = bob.waitFor((e) => e.ev === 'message');
    const toCarol = carol.waitFor((e) => e.ev === 'message');
    const ack = await alice.request('say', { room: 'lobby', text: 'hello, world' });
    expect(ack).toMatchObject({ mid: expect.any(Number), ts: expect.any(Number) });
    for (const event of [await toBob, await toCarol]) {
      expect(event).toMatchObject({
        ev: 'message',
        room: 'lobby',
        from: 'alice',
        text: 'hello, world',
        mid: ack.mid,
      });
    }
    // A ping round-trip after delivery proves nothing else is on its way to alice.
    await alice.request('ping');
    expect(aliceEvents.filter((e) => e.ev === 'message')).toEqual([]);
  });

  it('counts the length limit in characters, not bytes', async () => {
    await server.stop();
    server = await startTestServer({ set: { 'message.maxLength': 5 } });
    const alice = await server.connect('alice');
    await expect(alice.request('say', { text: 'héllo' })).resolves.toBeDefined();
    await expect(alice.request('say', { text: '👍🏽👍🏽👍🏽👍🏽👍🏽' })).resolves.toBeDefined();
    const error = await alice.request('say', { text: 'abcdef' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('message_too_long');
  });
});

describe('private messages', () => {
  it('go to several users and name the unknown ones', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const bobGets = bob.waitFor((e) => e.ev === 'private');
    const carolGets = carol.waitFor((e) => e.ev === 'private');
    const reply = await alice.request('msg', { to: ['bob', 'Carol', 'nobody'], text: 'psst' });
    expect(reply).toMatchObject({ delivered: ['bob', 'carol'], unknown: ['nobody'] });
    expect(await bobGets).toMatchObject({ from: 'alice', to: ['bob', 'carol'], text: 'psst' });
    expect(await carolGets).toMatchObject({ from: 'alice', text: 'psst' });
  });

  it('to nobody known is an error naming the recipients', async () => {
    const alice = await server.connect('alice');
    const error = (await alice
      .request('msg', { to: ['ghost'], text: 'hi' })
      .catch((e: unknown) => e)) as RequestError;
    expect(error.code).toBe('unknown_user');
    expect(error.message).toContain('ghost');
  });
});
