import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import type { CommandInfo } from '../src/protocol/catalog.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ set: { maxUsers: 3 } });
});
afterEach(async () => {
  await server.dispose();
});

async function refusal(client: ChatClient, nick: string): Promise<RequestError> {
  const error = await client.login(nick).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

describe('greeting and nickname step', () => {
  it('greets with version, limits and the catalogue hash, in under 1 KiB', async () => {
    const client = await server.open();
    expect(client.hello).toMatchObject({
      ev: 'hello',
      protocol: PROTOCOL_VERSION,
      protocols: [PROTOCOL_VERSION],
      capabilities: ['files', 'resume'],
      limits: {
        frameMaxBytes: 65536,
        serverFrameMaxBytes: 4 * 2 ** 20,
        messageMaxLength: 280,
        nickMaxLength: 32,
        fileMaxBytes: 100 * 2 ** 20,
      },
    });
    expect(client.hello).not.toHaveProperty('id');
    expect(Buffer.byteLength(JSON.stringify(client.hello)) + 1).toBeLessThanOrEqual(1024);
    const catalogue = await client.request<{ hash: string; commands: CommandInfo[] }>('catalogue');
    expect(catalogue.hash).toBe(client.hello.catalogue);
    const names = catalogue.commands.map((command) => command.name);
    expect(names).toEqual(expect.arrayContaining(['nick', 'say', 'msg', 'who', 'whoelse', 'quit']));
    expect(catalogue.commands.find((c) => c.name === 'who')?.aliases).toContain('list');
    expect(client.commands).toEqual(catalogue.commands);
  });

  it('negotiates the protocol version and optional features', async () => {
    const client = await server.open();
    await expect(
      client.request('hello', { protocols: [7, 1], capabilities: ['files', 'teleport'] }),
    ).resolves.toEqual({ protocol: 1, capabilities: ['files'] });
    const other = await server.open();
    const refused = await other.request('hello', { protocols: [7] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'unsupported_version', details: { protocols: [1] } });
    await expect(other.closed()).resolves.toMatchObject({ code: 'unsupported_version' });
  });

  it('lets a client retry until a nickname is accepted, on the same connection', async () => {
    await server.connect('alice');
    const client = await server.open();
    expect((await refusal(client, 'ALICE')).code).toBe('nick_taken');
    expect((await refusal(client, 'ａｌｉｃｅ')).code).toBe('nick_taken');
    expect((await refusal(client, 'bad name')).code).toBe('invalid_nick');
    expect((await refusal(client, 'x'.repeat(33))).code).toBe('invalid_nick');
    expect((await refusal(client, '')).code).toBe('invalid_nick');
    await expect(client.login('Zoë_2')).resolves.toMatchObject({
      nick: 'Zoë_2',
      account: false,
      role: 'guest',
    });
  });

  it('refuses other commands before the nickname step', async () => {
    const client = await server.open();
    await expect(client.request('say', { text: 'hi' })).rejects.toMatchObject({
      code: 'not_ready',
    });
    await expect(client.request('ping')).resolves.toEqual({});
  });

  it('refuses a login past maxUsers with a clear reason, and admits again when one leaves', async () => {
    const first = await server.connect('u1');
    await server.connect('u2');
    await server.connect('u3');
    const late = await server.open();
    const error = await refusal(late, 'u4');
    expect(error.code).toBe('server_full');
    expect(error.message).toMatch(/full/);
    await first.quit();
    await expect(late.login('u4')).resolves.toMatchObject({ nick: 'u4' });
  });
});

describe('guest nickname change', () => {
  it('renames a guest, tells everyone, and frees the old name', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const renamed = bob.waitFor((e) => e.ev === 'renamed');
    await expect(alice.request('nick', { nick: 'BOB' })).rejects.toMatchObject({
      code: 'nick_taken',
    });
    await expect(alice.request('nick', { nick: 'alicia' })).resolves.toMatchObject({
      nick: 'alicia',
    });
    expect(await renamed).toMatchObject({ from: 'alice', to: 'alicia' });
    const carol = await server.open();
    await expect(carol.login('alice')).resolves.toMatchObject({ nick: 'alice' });
  });
});

describe('presence', () => {
  it('lists everyone online with status and session id; whoelse leaves you out', async () => {
    const alice = await server.connect('alice');
    await server.connect('bob');
    const who = (await alice.request('who')) as {
      users: Array<{ nick: string; session: string; status: string }>;
    };
    expect(who.users.map((u) => u.nick)).toEqual(['alice', 'bob']);
    expect(who.users.every((u) => u.status === 'active' && /^s\d+$/.test(u.session))).toBe(true);
    const whoelse = (await alice.request('whoelse')) as { users: Array<{ nick: string }> };
    expect(whoelse.users.map((u) => u.nick)).toEqual(['bob']);
  });

  it('announces logins, clean quits with their message, and dropped sockets exactly once', async () => {
    // Without session resume a dropped socket is a leave at once (resume.test.ts covers the rest).
    await server.dispose();
    server = await startTestServer({ set: { 'resume.graceSeconds': 0 } });
    const alice = await server.connect('alice');
    const seen: string[] = [];
    alice.on('event', (event) => {
      if (event.ev === 'online') seen.push(`online ${event.nick}`);
      if (event.ev === 'offline')
        seen.push(
          `offline ${event.nick} ${event.reason}${event.message ? ` ${event.message}` : ''}`,
        );
    });
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    await bob.quit('see you');
    carol.destroy();
    await alice.waitFor((e) => e.ev === 'offline' && e.nick === 'carol');
    await alice.request('ping');
    expect(seen).toEqual([
      'online bob',
      'online carol',
      'offline bob quit see you',
      'offline carol dropped',
    ]);
    const who = (await alice.request('who')) as { users: Array<{ nick: string }> };
    expect(who.users.map((u) => u.nick)).toEqual(['alice']);
  });

  it('announces presence only to roommates once more than presence.announceMax are online', async () => {
    await server.dispose();
    server = await startTestServer({
      set: { 'resume.graceSeconds': 0, 'presence.announceMax': 2 },
    });
    const seenBy = new Map<string, string[]>();
    const watch = (client: ChatClient, name: string) => {
      const seen: string[] = [];
      seenBy.set(name, seen);
      client.on('event', (event) => {
        if (event.ev === 'online') seen.push(`online ${event.nick}`);
        if (event.ev === 'offline') seen.push(`offline ${event.nick}`);
        if (event.ev === 'renamed') seen.push(`renamed ${event.from} ${event.to}`);
      });
    };
    const alice = await server.connect('alice');
    watch(alice, 'alice');
    const bob = await server.connect('bob');
    watch(bob, 'bob');
    await alice.waitFor((e) => e.ev === 'online' && e.nick === 'bob');
    await alice.request('create', { room: 'den' });
    await bob.request('join', { room: 'den' });
    // Three online: above the limit. Carol shares no room, so nobody hears of her.
    const carol = await server.connect('carol');
    watch(carol, 'carol');
    await bob.request('nick', { nick: 'bobby' });
    await bob.quit();
    await alice.waitFor((e) => e.ev === 'offline' && e.nick === 'bobby');
    // A reply is written after every notice queued before it, so these settle the streams.
    await alice.request('ping');
    await carol.request('ping');
    expect(seenBy.get('alice')).toEqual(['online bob', 'renamed bob bobby', 'offline bobby']);
    expect(seenBy.get('carol')).toEqual([]);
    // Back at the limit, everyone hears again.
    await carol.quit();
    await alice.waitFor((e) => e.ev === 'offline' && e.nick === 'carol');
  });
});

describe('shutdown', () => {
  it('tells every client the countdown, then closes them cleanly', async () => {
    const alice = await server.connect('alice');
    const notice = alice.waitFor((e) => e.ev === 'shutdown');
    const stopping = server.server.stop(1, 'maintenance');
    expect(await notice).toMatchObject({ seconds: 1, reason: 'maintenance' });
    // Refused either at the door (no longer accepting) or at the nickname step.
    const newcomer = await server
      .open()
      .then((client) => client.login('late'))
      .then(
        () => 'accepted',
        () => 'refused',
      );
    expect(newcomer).toBe('refused');
    const closed = await alice.closed();
    expect(closed.code).toBe('shutting_down');
    await stopping;
  });
});
