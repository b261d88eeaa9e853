import { Client, type BatchEvent, type MessageEvent } from 'irc-framework';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/client.js';
import type { ServerEvent as ChatEvent } from '../../src/protocol/events.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';

/**
 * The gateway as a real IRC client library sees it: irc-framework (the library behind
 * The Lounge and Kiwi IRC) negotiates its own capabilities, SASL and batches.
 */
let server: TestServer;
let port: number;
const clients: Client[] = [];

beforeEach(async () => {
  server = await startTestServer({ ircPort: 0, set: { 'lockout.attempts': 2 } });
  port = server.server.ircAddress!.port;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.quit();
  await server.dispose();
});

function waitFor<T>(
  client: Client,
  event: string,
  match: (value: T) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      resolve(value);
    };
    client.on(event, listener as (event: never) => void);
  });
}

async function ircUser(
  nick: string,
  options: { account?: { account: string; password: string }; echo?: boolean } = {},
): Promise<Client> {
  const client = new Client({ auto_reconnect: false });
  clients.push(client);
  const registered = waitFor(client, 'registered');
  client.connect({
    host: '127.0.0.1',
    port,
    nick,
    username: nick,
    gecos: `${nick} via irc-framework`,
    auto_reconnect: false,
    ...(options.account && { account: options.account }),
    ...(options.echo && { enable_echomessage: true }),
  });
  await registered;
  return client;
}

function nativeEvent(
  native: ChatClient,
  match: (event: ChatEvent) => boolean,
  ms = 5000,
): Promise<ChatEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no such native event')), ms);
    native.on('event', (event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      resolve(event);
    });
  });
}

describe('irc-framework against the gateway', () => {
  it('registers, negotiates IRCv3, joins and chats with a native client, echo-message with msgid', async () => {
    const irc = await ircUser('ivy', { echo: true });
    expect(irc.network.cap.enabled).toEqual(
      expect.arrayContaining([
        'server-time',
        'message-tags',
        'echo-message',
        'batch',
        'extended-join',
        'account-tag',
      ]),
    );
    const joined = waitFor<{ channel: string; nick: string }>(
      irc,
      'join',
      (e) => e.channel === '#garden' && e.nick === 'ivy',
    );
    irc.join('#garden');
    await joined;
    const native = await server.connect('noel');
    const noelJoined = waitFor<{ channel: string; nick: string }>(
      irc,
      'join',
      (e) => e.nick === 'noel',
    );
    await native.request('join', { room: 'garden' });
    await noelJoined;

    const fromNative = waitFor<MessageEvent>(irc, 'message', (e) => e.nick === 'noel');
    await native.request('say', { room: 'garden', text: 'roses are red' });
    const received = await fromNative;
    expect(received).toMatchObject({
      type: 'privmsg',
      target: '#garden',
      message: 'roses are red',
    });
    expect(received.tags.msgid).toMatch(/^\d+$/);
    expect(received.time).toBeGreaterThan(Date.now() - 60_000);

    const echoed = waitFor<MessageEvent>(irc, 'message', (e) => e.nick === 'ivy');
    const heard = nativeEvent(native, (e) => e.ev === 'message' && e.from === 'ivy');
    irc.say('#garden', 'violets are blue');
    const [echo, event] = await Promise.all([echoed, heard]);
    expect(echo.message).toBe('violets are blue');
    expect(event.ev === 'message' && String(event.mid)).toBe(echo.tags.msgid);

    const privateHeard = nativeEvent(native, (e) => e.ev === 'private');
    irc.say('noel', 'just for you');
    expect(await privateHeard).toMatchObject({ ev: 'private', from: 'ivy', text: 'just for you' });
    const privateBack = waitFor<MessageEvent>(irc, 'message', (e) => e.target === 'ivy');
    await native.request('msg', { to: ['ivy'], text: 'thanks' });
    expect((await privateBack).message).toBe('thanks');
  });

  it('logs in with SASL PLAIN and counts failures against the same lockout', async () => {
    const admin = await ircUser('whatever', {
      account: { account: 'admin', password: TEST_ADMIN_PASSWORD },
    });
    expect(admin.user.nick).toBe('admin');
    admin.quit();
    for (let attempt = 0; attempt < 2; attempt++) {
      const client = new Client({ auto_reconnect: false });
      clients.push(client);
      const failed = waitFor(client, 'sasl failed');
      client.connect({
        host: '127.0.0.1',
        port,
        nick: `try${attempt}`,
        account: { account: 'admin', password: 'nope' },
      });
      await failed;
    }
    // Locked out now (lockout.attempts = 2): even the right password is refused.
    const locked = new Client({ auto_reconnect: false });
    clients.push(locked);
    const refused = waitFor(locked, 'sasl failed');
    locked.connect({
      host: '127.0.0.1',
      port,
      nick: 'late',
      account: { account: 'admin', password: TEST_ADMIN_PASSWORD },
    });
    await refused;
  });

  it('sends to several targets at once', async () => {
    const sender = await ircUser('ada');
    const [b, c] = [await ircUser('bea'), await ircUser('cyd')];
    const atB = waitFor<MessageEvent>(b, 'message', (e) => e.nick === 'ada');
    const atC = waitFor<MessageEvent>(c, 'message', (e) => e.nick === 'ada');
    sender.say('bea,cyd', 'meeting at noon');
    expect((await atB).message).toBe('meeting at noon');
    expect((await atC).message).toBe('meeting at noon');
  });

  it('fetches history with draft/chathistory in a batch', async () => {
    const native = await server.connect('old');
    await native.request('create', { room: 'archive' });
    for (let i = 1; i <= 5; i++)
      await native.request('say', { room: 'archive', text: `line ${i}` });
    const irc = await ircUser('reader');
    irc.requestCap('draft/chathistory');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const joined = waitFor(irc, 'join');
    irc.join('#archive');
    await joined;
    const batch = waitFor<BatchEvent>(irc, 'batch end chathistory');
    irc.raw('CHATHISTORY', 'LATEST', '#archive', '*', '3');
    const done = await batch;
    expect(done.params).toEqual(['#archive']);
    expect(done.commands.map((command) => command.params[1])).toEqual([
      'line 3',
      'line 4',
      'line 5',
    ]);
    const older = waitFor<BatchEvent>(irc, 'batch end chathistory');
    irc.raw('CHATHISTORY', 'BEFORE', '#archive', `msgid=${done.commands[0]!.tags.msgid}`, '10');
    expect((await older).commands.map((command) => command.params[1])).toEqual([
      'line 1',
      'line 2',
    ]);
  });

  it('shows a room kick as KICK and an admin ban as QUIT', async () => {
    const owner = await ircUser('own');
    const guest = await ircUser('gst');
    const ownerJoined = waitFor(owner, 'join', (e: { channel: string }) => e.channel === '#club');
    owner.join('#club');
    await ownerJoined;
    const guestJoined = waitFor(owner, 'join', (e: { nick: string }) => e.nick === 'gst');
    guest.join('#club');
    await guestJoined;
    const kicked = waitFor<{ kicked: string; nick: string; message: string }>(guest, 'kick');
    owner.raw('KICK', '#club', 'gst', 'too loud');
    expect(await kicked).toMatchObject({ kicked: 'gst', nick: 'own', message: 'too loud' });

    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    const quit = waitFor<{ nick: string; message: string }>(owner, 'quit', (e) => e.nick === 'gst');
    const closed = waitFor(guest, 'close');
    await admin.request('ban', { nick: 'gst', duration: '2h', reason: 'spam' });
    expect((await quit).message).toMatch(/Banned/);
    await closed;
    // A banned guest nickname cannot come back through IRC either.
    const again = new Client({ auto_reconnect: false });
    clients.push(again);
    const refused = waitFor<{ error: string }>(again, 'irc error');
    again.connect({ host: '127.0.0.1', port, nick: 'gst' });
    expect((await refused).error).toBeDefined();
  });
});
