import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';
import { IrcLineClient } from './line-client.js';

let server: TestServer;
let port: number;
const clients: IrcLineClient[] = [];

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

async function start(set: Record<string, string | number> = {}) {
  server = await startTestServer({ ircPort: 0, set });
  port = server.server.ircAddress!.port;
}

beforeEach(() => start());

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.dispose();
});

describe('IRC registration', () => {
  it('welcomes with 001-005, LUSERS, MOTD and #lobby, in that order', async () => {
    const client = await open();
    client.send('PING early');
    await client.next(':confab PONG confab early');
    client.send('JOIN #x');
    await client.next(/^:confab 451 \* :You have not registered/);
    client.send('NICK ann');
    client.send('USER ann 0 * :Ann N');
    const welcome = await client.next(/ 001 /);
    expect(welcome).toBe(':confab 001 ann :Welcome to the Confab IRC network, ann!ann@confab');
    const isupport = (await client.next(/ 005 /)) + ' ' + (await client.next(/ 005 /));
    for (const token of [
      'CASEMAPPING=rfc7613',
      'CHANTYPES=#',
      'PREFIX=(o)@',
      'NICKLEN=32',
      'CHANNELLEN=33',
      'TOPICLEN=280',
      'UTF8ONLY',
      'CHATHISTORY=100',
      'TARGMAX=',
    ])
      expect(isupport).toContain(token);
    await client.next(/ 251 ann /);
    await client.next(/ 376 ann /);
    await client.next(':ann!ann@confab JOIN #lobby');
    await client.next(/^:confab 353 ann = #lobby :ann$/);
    await client.next(/^:confab 366 ann #lobby /);
    const order = client.lines.map((line) => line.split(' ')[1]);
    expect(order.indexOf('001')).toBeLessThan(order.indexOf('005'));
    expect(order.indexOf('005')).toBeLessThan(order.indexOf('251'));
    expect(order.indexOf('376')).toBeLessThan(order.indexOf('JOIN'));
  });

  it('answers a taken or bad nickname and waits for another', async () => {
    await register('bob');
    const client = await open();
    client.send('NICK bad!nick');
    await client.next(/^:confab 432 \* bad!nick :/);
    client.send('NICK BOB');
    client.send('USER x 0 * :x');
    await client.next(/^:confab 433 \* BOB :/);
    client.send('NICK carol');
    await client.next(/ 001 carol /);
  });

  it('holds registration during CAP negotiation and answers CAP LS 302 with values', async () => {
    const client = await open();
    client.send('CAP LS 302');
    client.send('NICK dan');
    client.send('USER dan 0 * :Dan');
    const ls = await client.next(/ CAP \* LS /);
    expect(ls).toContain('sasl=PLAIN');
    client.send('CAP REQ :server-time bogus-cap');
    await client.next(':confab CAP * NAK :server-time bogus-cap');
    client.send('CAP REQ :server-time message-tags');
    await client.next(':confab CAP * ACK :server-time message-tags');
    await client.sync();
    expect(client.lines.some((line) => line.includes(' 001 '))).toBe(false);
    client.send('CAP LIST');
    await client.next(/CAP \* LIST :.*server-time/);
    client.send('CAP END');
    await client.next(/ 001 dan /);
  });

  it('logs an account in with PASS, and refuses a registered nickname without it', async () => {
    const guest = await open();
    guest.send('NICK admin');
    guest.send('USER a 0 * :a');
    const refused = await guest.next(/ 433 \* admin /);
    expect(refused).toContain('SASL');
    const client = await open();
    client.send(`PASS ${TEST_ADMIN_PASSWORD}`);
    client.send('NICK admin');
    client.send('USER admin 0 * :Admin');
    await client.next(/ 001 admin /);
    await client.next(/ 900 admin admin!admin@confab admin :/);
    client.send('MODE admin');
    await client.next(/ 221 admin \+io/);
  });

  it('ends with 464 and ERROR on a wrong PASS', async () => {
    const client = await open();
    client.send('PASS wrong-password');
    client.send('NICK admin');
    client.send('USER admin 0 * :Admin');
    await client.next(/ 464 admin|464 \* /);
    await client.next(/^ERROR :/);
    await client.closed;
  });
});

describe('IRC lines and text', () => {
  it('answers a line over 512 bytes with 417 and goes on', async () => {
    const client = await register('eve');
    client.send(`PRIVMSG #lobby :${'x'.repeat(600)}`);
    await client.next(/ 417 eve :/);
    client.send('PING alive');
    await client.next('PONG confab alive');
  });

  it('never passes NUL on, and refuses invalid UTF-8', async () => {
    const client = await register('fay', ['standard-replies']);
    const other = await register('gus');
    client.send(Buffer.from('PRIVMSG gus :a\0b\r\n'));
    await client.next(/FAIL PRIVMSG INVALID_PARAMS :NUL/);
    client.send(
      Buffer.concat([Buffer.from('PRIVMSG gus :'), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n')]),
    );
    await client.next(/FAIL PRIVMSG INVALID_UTF8 /);
    const seen = await other.sync();
    expect(seen.some((line) => line.includes('PRIVMSG gus'))).toBe(false);
  });

  it('answers the 280-character limit with a standard reply', async () => {
    const client = await register('hal', ['standard-replies']);
    client.send(`PRIVMSG #lobby :${'é'.repeat(200) + 'x'.repeat(81)}`);
    const fail = await client.next(/FAIL PRIVMSG MESSAGE_TOO_LONG #lobby :/);
    expect(fail).toContain('280');
    const plain = await register('ida');
    plain.send(`PRIVMSG #lobby :${'é'.repeat(200) + 'x'.repeat(81)}`);
    await plain.next(/NOTICE ida :PRIVMSG failed: .*280/);
  });

  it('refuses more targets than TARGMAX and delivers to several within it', async () => {
    const sender = await register('jay');
    const [a, b] = [await register('kim'), await register('lea')];
    sender.send('PRIVMSG a,b,c,d,e :hi');
    await sender.next(/ 407 jay a,b,c,d,e :/);
    sender.send('PRIVMSG kim,lea,#lobby,nobody :hello all');
    await a.next(':jay!jay@confab PRIVMSG kim :hello all');
    await b.next(':jay!jay@confab PRIVMSG lea :hello all');
    await a.next(':jay!jay@confab PRIVMSG #lobby :hello all');
    await sender.next(/ 401 jay nobody :/);
  });

  it('labels responses (labeled-response): one line tagged, several in a batch, none ACKed', async () => {
    const client = await register('max', ['labeled-response', 'batch']);
    client.send('@label=p1 PING tok');
    await client.next('@label=p1 :confab PONG confab tok');
    client.send('@label=j1 JOIN #labeled');
    const start = await client.next(/^@label=j1 :confab BATCH \+(\S+) labeled-response$/);
    const id = /BATCH \+(\S+)/.exec(start)![1]!;
    await client.next(`@batch=${id} :max!max@confab JOIN #labeled`);
    await client.next(new RegExp(`^@batch=${id} :confab 366 max #labeled`));
    await client.next(`:confab BATCH -${id}`);
    client.send('@label=n1 PONG whatever');
    await client.next('@label=n1 :confab ACK');
  });
});

describe('IRC channels', () => {
  it('creates a room on JOIN, owner shown as operator, and talks with a native client', async () => {
    const irc = await register('ned');
    irc.send('JOIN #den');
    await irc.next(':ned!ned@confab JOIN #den');
    await irc.next(/ 353 ned = #den :@ned$/);
    irc.send('MODE #den');
    await irc.next(/ 324 ned #den \+nt/);
    const native = await server.connect('ola');
    await native.request('join', { room: 'den' });
    await irc.next(':ola!ola@confab JOIN #den');
    // 270 characters, 540 bytes: more than one IRC line holds, so it arrives cut in two.
    await native.request('say', { room: 'den', text: 'é'.repeat(270) });
    const first = await irc.next(/:ola!ola@confab PRIVMSG #den :é+$/);
    const second = await irc.next(/:ola!ola@confab PRIVMSG #den :é+$/);
    const length = (line: string) => line.slice(line.indexOf(' :') + 2).length;
    expect(length(first) + length(second)).toBe(270);
    expect(Buffer.byteLength(first) + 2).toBeLessThanOrEqual(512);
    const heard = new Promise<string>((resolve) =>
      native.on('event', (event) => {
        if (event.ev === 'message' && event.from === 'ned') resolve(event.text);
      }),
    );
    irc.send('PRIVMSG #den :\x01ACTION waves\x01');
    expect(await heard).toBe('* ned waves');
    irc.send('TOPIC #den :plans for today');
    await irc.next(':ned!ned@confab TOPIC #den :plans for today');
    irc.send('TOPIC #den');
    await irc.next(/ 332 ned #den :plans for today/);
    irc.send('PART #den');
    await irc.next(':ned!ned@confab PART #den');
  });

  it('does not create a room on JOIN when irc.createOnJoin is off', async () => {
    await server.dispose();
    await start({ 'irc.createOnJoin': 'false' });
    const irc = await register('pia');
    irc.send('JOIN #nowhere');
    await irc.next(/ 403 pia #nowhere :/);
  });

  it('keeps the lobby quiet above presence.announceMax', async () => {
    await server.dispose();
    await start({ 'presence.announceMax': 1 });
    const first = await register('quinn');
    await register('rae');
    first.send('NAMES #lobby');
    const names = await first.next(/ 353 quinn = #lobby /);
    expect(names).toMatch(/:quinn$/);
    const lines = await first.sync();
    expect(lines.some((line) => line.includes('rae!rae@confab JOIN #lobby'))).toBe(false);
  });
});

describe('the Confab service user', () => {
  it('runs Confab commands: block stops a sender, inbox lists messages', async () => {
    const irc = await register('sam');
    await server.connect('tom');
    const tom = await server.connect('tim');
    irc.send('PRIVMSG Confab :block tim');
    await irc.next(/:Confab!Confab@confab NOTICE sam :/);
    await tom.request('msg', { to: ['sam'], text: 'can you hear me' });
    irc.send('PRIVMSG Confab :blocked');
    await irc.next(/NOTICE sam :.*tim/);
    const lines = await irc.sync();
    expect(lines.some((line) => line.includes('can you hear me'))).toBe(false);
    irc.send('PRIVMSG Confab :ban tom 2h');
    await irc.next(/NOTICE sam :.*admins only.*not_authorized/);
  });
});
