import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, connectRecording, failure, makeAccount, ofKind } from './helpers/events.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ set: { 'inbox.maxUnread': 2 } });
});
afterEach(async () => {
  await server.dispose();
});

type InboxReply = {
  messages: { mid: number; ts: number; from: string; text: string; read: boolean }[];
  unread: number;
};

describe('offline private messages and the inbox', () => {
  it('are stored for an offline account, shown once at login as missed, and then read', async () => {
    await makeAccount(server, 'alice');
    const bob = await server.connect('bob');
    const first = await bob.request<{ mid: number; ts: number; stored: string[] }>('msg', {
      to: ['alice'],
      text: 'are you there?',
    });
    expect(first).toMatchObject({ delivered: [], stored: ['alice'], unknown: [] });

    const { client: alice, events } = await connectRecording(server, 'alice', PASSWORD);
    const missed = ofKind(events, 'private');
    expect(missed).toEqual([
      expect.objectContaining({
        mid: first.mid,
        ts: first.ts,
        from: 'bob',
        text: 'are you there?',
        replay: 'missed',
      }),
    ]);
    // Shown as missed is read: no "unread" notice, and /inbox does not list it again as new
    // (a bot reading both would handle it twice).
    expect(ofKind(events, 'notice')).toEqual([]);
    expect(await alice.request<InboxReply>('inbox')).toEqual({ messages: [], unread: 0 });

    // A message that arrives live is read at once; /inbox all shows both, oldest first.
    const live = alice.waitFor((e) => e.ev === 'private');
    const second = await bob.request<{ delivered: string[] }>('msg', {
      to: ['alice'],
      text: 'hi live',
    });
    expect(second).toMatchObject({ delivered: ['alice'], stored: [] });
    expect(await live).not.toHaveProperty('replay');
    expect(await alice.request<InboxReply>('inbox')).toEqual({ messages: [], unread: 0 });
    const all = await alice.request<InboxReply>('inbox', { which: 'all' });
    expect(all.messages.map((m) => [m.text, m.read])).toEqual([
      ['are you there?', true],
      ['hi live', true],
    ]);

    // Exactly once: logging in again replays nothing.
    await alice.quit();
    const again = await connectRecording(server, 'alice', PASSWORD);
    expect(ofKind(again.events, 'private')).toEqual([]);
  });

  it('name unknown users and offline guests, and refuse past the unread cap', async () => {
    await makeAccount(server, 'alice');
    const carol = await server.connect('carol');
    await carol.quit();
    const bob = await server.connect('bob');
    let error = await failure(bob.request('msg', { to: ['nobody'], text: 'hi' }));
    expect(error.code).toBe('unknown_user');
    expect(error.message).toContain('nobody');
    error = await failure(bob.request('msg', { to: ['carol'], text: 'hi' }));
    expect(error.code).toBe('unknown_user');
    expect(error.message).toContain('carol');

    await bob.request('msg', { to: ['alice'], text: 'one' });
    await bob.request('msg', { to: ['alice'], text: 'two' });
    error = await failure(bob.request('msg', { to: ['alice'], text: 'three' }));
    expect(error.code).toBe('inbox_full');
    expect(error.message).toContain('alice');
    expect(error.details).toEqual({ full: ['alice'] });

    // With another recipient, the message goes through and the reply names the full inbox.
    const dave = await server.connect('dave');
    const partial = await bob.request('msg', { to: ['alice', 'dave'], text: 'four' });
    expect(partial).toMatchObject({ delivered: ['dave'], stored: [], full: ['alice'] });
    await dave.request('ping');

    const { client: alice, events } = await connectRecording(server, 'alice', PASSWORD);
    expect(ofKind(events, 'private').map((m) => m.text)).toEqual(['one', 'two']);
    const inbox = await alice.request<InboxReply>('inbox', { which: 'all' });
    expect(inbox.messages.map((m) => [m.text, m.read])).toEqual([
      ['one', true],
      ['two', true],
    ]);
    // Messages shown at login free the inbox.
    await alice.quit();
    await expect(bob.request('msg', { to: ['alice'], text: 'five' })).resolves.toMatchObject({
      stored: ['alice'],
    });
  });

  it('is for accounts only', async () => {
    const guest = await server.connect('guest');
    expect((await failure(guest.request('inbox'))).code).toBe('account_required');
  });
});
