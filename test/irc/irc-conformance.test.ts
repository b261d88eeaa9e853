import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { IrcLineClient } from './line-client.js';

/**
 * Cases a conformance suite in the style of irctest checks (modern.ircdocs.horse, RFC 2812,
 * IRCv3), each one that the gateway once got wrong or did not do.
 */
let server: TestServer;
let port: number;
const clients: IrcLineClient[] = [];

beforeEach(async () => {
  server = await startTestServer({ ircPort: 0 });
  port = server.server.ircAddress!.port;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.dispose();
});

async function register(nick: string, caps: readonly string[] = []): Promise<IrcLineClient> {
  const client = await IrcLineClient.register(port, nick, caps);
  clients.push(client);
  return client;
}

async function open(): Promise<IrcLineClient> {
  const client = await IrcLineClient.connect(port);
  clients.push(client);
  return client;
}

describe('registration and CAP', () => {
  it('registers when CAP END comes before NICK and USER', async () => {
    const client = await open();
    client.send('CAP LS 302');
    await client.next(/ CAP \* LS /);
    client.send('CAP END');
    client.send('NICK early');
    client.send('USER early 0 * :Early');
    await client.next(/^:confab 001 early /);
  });

  it('refuses a whole CAP REQ holding one unknown capability (NAK), enabling none', async () => {
    const client = await open();
    client.send('CAP LS 302');
    client.send('CAP REQ :server-time nonexistent-cap');
    await client.next(/^:confab CAP \* NAK :server-time nonexistent-cap$/);
    client.send('CAP LIST');
    const list = await client.next(/ CAP \* LIST /);
    expect(list).not.toContain('server-time');
    client.send('CAP END');
    client.send('NICK nak');
    client.send('USER nak 0 * :Nak');
    await client.next(/ 001 nak /);
  });

  it('answers PING without a token with 409 and an empty one with PONG', async () => {
    const client = await register('pinger');
    client.send('PING');
    await client.next(/^:confab 409 pinger :/);
    client.send('PING :');
    await client.next(/^:confab PONG confab :$/);
  });
});

describe('channels', () => {
  it('shows a PART reason to the member leaving, to IRC and to native members', async () => {
    const bar = await register('bar');
    const baz = await register('baz');
    const native = await server.connect('nat');
    bar.send('JOIN #chan');
    await bar.next(/ 366 bar #chan /);
    baz.send('JOIN #chan');
    await baz.next(/ 366 baz #chan /);
    await native.request('join', { room: 'chan' });
    const nativeSaw = native.waitFor((e) => e.ev === 'room_leave' && e.nick === 'bar');
    bar.send('PART #chan :bye everyone');
    expect(await bar.next(/ PART #chan/)).toBe(':bar!bar@confab PART #chan :bye everyone');
    expect(await baz.next(/ PART #chan/)).toBe(':bar!bar@confab PART #chan :bye everyone');
    expect(await nativeSaw).toMatchObject({ reason: 'bye everyone' });
    expect(native.isClosed).toBe(false);
    // Without a reason, a bare PART.
    baz.send('PART #chan');
    expect(await baz.next(/ PART #chan/)).toBe(':baz!baz@confab PART #chan');
  });

  it('answers PART of a channel one is not on with 442, of none with 403', async () => {
    const foo = await register('foo');
    const bar = await register('bar');
    foo.send('JOIN #chan');
    await foo.next(/ 366 foo #chan /);
    bar.send('PART #chan');
    await bar.next(/^:confab 442 bar #chan :/);
    bar.send('PART #nothere');
    await bar.next(/^:confab 403 bar #nothere :/);
  });

  it('follows RPL_TOPIC with RPL_TOPICWHOTIME naming who set it', async () => {
    const ann = await register('ann');
    const bob = await register('bob');
    ann.send('JOIN #tea');
    await ann.next(/ 366 ann #tea /);
    const before = Math.floor(Date.now() / 1000);
    ann.send('TOPIC #tea :brewing');
    await ann.next(':ann!ann@confab TOPIC #tea :brewing');
    bob.send('JOIN #tea');
    await bob.next(/^:confab 332 bob #tea :brewing$/);
    const whoTime = await bob.next(/ 333 /);
    const match = /^:confab 333 bob #tea ann(?:!\S+)? (\d+)$/.exec(whoTime);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(before);
    bob.send('TOPIC #tea');
    await bob.next(/^:confab 332 bob #tea :brewing$/);
    await bob.next(/^:confab 333 bob #tea ann/);
  });
});

describe('labeled-response', () => {
  it('labels the echo of a PRIVMSG, a single reply, a batch, and ACKs silence', async () => {
    const client = await register('lab', [
      'labeled-response',
      'echo-message',
      'batch',
      'message-tags',
    ]);
    client.send('@label=a1 PING x');
    await client.next(/^@label=a1 :confab PONG confab x$/);
    client.send('@label=a2 PRIVMSG #lobby :hello');
    await client.next(/^@label=a2;msgid=\d+ :lab!lab@confab PRIVMSG #lobby :hello$/);
    client.send('@label=a3 JOIN #tea');
    const open = await client.next(/^@label=a3 :confab BATCH \+(\S+) labeled-response$/);
    const id = /BATCH \+(\S+)/.exec(open)![1]!;
    await client.next(`@batch=${id} :lab!lab@confab JOIN #tea`);
    await client.next(`:confab BATCH -${id}`);
    client.send('@label=a4 NOTICE nobody :x');
    await client.next(/^@label=a4 :confab ACK$/);
  });
});
