import { afterEach, describe, expect, it } from 'vitest';
import { startTestNodes, type TestNodes } from '../helpers/nodes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { IrcLineClient } from './line-client.js';

/**
 * AWAY is Confab's `/away` and account changes are core events: IRC, native (and so
 * browser) users see the same state, on every node, and IRC gets away-notify and
 * account-notify from them.
 */
const PASSWORD = 'correct horse battery';
const clients: IrcLineClient[] = [];
let server: TestServer | undefined;
let nodes: TestNodes | undefined;

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.dispose();
  await nodes?.dispose();
  server = undefined;
  nodes = undefined;
});

async function ircOn(port: number, nick: string, caps: readonly string[] = []) {
  const client = await IrcLineClient.register(port, nick, caps);
  clients.push(client);
  return client;
}

interface UserRow {
  nick: string;
  status: string;
  awayMessage?: string;
}

describe('AWAY through the core', () => {
  it('is seen by native users, and a native /away by IRC users (away-notify, 301)', async () => {
    server = await startTestServer({ ircPort: 0 });
    const port = server.server.ircAddress!.port;
    const ann = await ircOn(port, 'ann', ['away-notify']);
    const nat = await server.connect('nat');
    await ann.next(':nat!nat@confab JOIN #lobby');

    const natSaw = nat.waitFor((e) => e.ev === 'away' && e.nick === 'ann');
    ann.send('AWAY :gone to lunch');
    await ann.next(/^:confab 306 ann :/);
    const { users } = await nat.request<{ users: UserRow[] }>('who');
    expect(users.find((user) => user.nick === 'ann')).toMatchObject({
      status: 'away',
      awayMessage: 'gone to lunch',
    });
    expect(await nat.request('whois', { name: 'ann' })).toMatchObject({
      status: 'away',
      awayMessage: 'gone to lunch',
    });
    expect(await natSaw).toMatchObject({ message: 'gone to lunch' });

    await nat.request('away', { message: 'in a meeting' });
    await ann.next(':nat!nat@confab AWAY :in a meeting');
    ann.send('WHOIS nat');
    await ann.next(':confab 301 ann nat :in a meeting');
    await ann.next(/ 318 ann nat /);
    ann.send('PRIVMSG nat :ping me later');
    await ann.next(':confab 301 ann nat :in a meeting');
    ann.send('WHO nat');
    await ann.next(/^:confab 352 ann \* nat confab confab nat G /);
    ann.send('USERHOST nat');
    await ann.next(/ 302 ann :?nat=-nat@confab$/);

    await nat.request('away', {});
    await ann.next(/^:nat!nat@confab AWAY$/);
    ann.send('AWAY');
    await ann.next(/^:confab 305 ann :/);
    const back = (await nat.request<{ users: UserRow[] }>('who')).users.find(
      (user) => user.nick === 'ann',
    );
    expect(back).toMatchObject({ status: 'active' });
    expect(back?.awayMessage).toBeUndefined();
  });

  it('follows the JOIN of someone away with their AWAY (away-notify)', async () => {
    server = await startTestServer({ ircPort: 0 });
    const port = server.server.ircAddress!.port;
    const bob = await ircOn(port, 'bob', ['away-notify', 'extended-join']);
    bob.send('JOIN #tea');
    await bob.next(/ 366 bob #tea /);
    const cat = await ircOn(port, 'cat');
    cat.send('AWAY :brb');
    await cat.next(/ 306 cat /);
    cat.send('JOIN #tea');
    await bob.next(/^:cat!cat@confab JOIN #tea \* :cat$/);
    const after = await bob.next(/^:cat!cat@confab AWAY/);
    expect(after).toBe(':cat!cat@confab AWAY :brb');
  });

  it('crosses nodes: an IRC user on one node sees /away from another, and the reverse', async () => {
    nodes = await startTestNodes(2, { irc: true });
    const port = nodes.nodes[0]!.ircAddress!.port;
    const ivy = await ircOn(port, 'ivy', ['away-notify']);
    const far = await nodes.connect(1, 'far');
    await ivy.next(':far!far@confab JOIN #lobby');
    await far.request('away', { message: 'on node one' });
    await ivy.next(':far!far@confab AWAY :on node one');
    ivy.send('WHOIS far');
    await ivy.next(':confab 301 ivy far :on node one');
    ivy.send('AWAY :on node zero');
    await ivy.next(/ 306 ivy /);
    const { users } = await far.request<{ users: UserRow[] }>('who');
    expect(users.find((user) => user.nick === 'ivy')).toMatchObject({
      status: 'away',
      awayMessage: 'on node zero',
    });
  });
});

describe('account-notify', () => {
  it('sends ACCOUNT when a guest registers and ACCOUNT * when the account is deleted', async () => {
    server = await startTestServer({ ircPort: 0 });
    const port = server.server.ircAddress!.port;
    const dan = await ircOn(port, 'dan', ['account-notify']);
    const plain = await ircOn(port, 'eli');
    const nat = await server.connect('nat');
    await dan.next(':nat!nat@confab JOIN #lobby');
    await nat.request('register', { password: PASSWORD });
    await dan.next(':nat!nat@confab ACCOUNT nat');
    await nat.request('deregister', { password: PASSWORD, confirm: true });
    await dan.next(':nat!nat@confab ACCOUNT *');
    // An IRC guest registering through the service user is told too.
    plain.send('PRIVMSG Confab :register correct-horse-battery-staple');
    await dan.next(':eli!eli@confab ACCOUNT eli');
    // Without the capability, nothing.
    const seen = await plain.sync();
    expect(plain.lines.concat(seen).some((line) => / ACCOUNT /.test(line))).toBe(false);
  });
});
