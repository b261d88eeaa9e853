import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { IrcLineClient } from './line-client.js';

/**
 * CHATHISTORY as the IRCv3 draft/chathistory specification (and the conformance suites
 * that check it) reads it: every subcommand answers one `chathistory` batch, oldest first,
 * bounds excluded, with the msgid and time tags the messages had when they were echoed.
 */
const CAPS = [
  'batch',
  'draft/chathistory',
  'echo-message',
  'labeled-response',
  'message-tags',
  'server-time',
  'standard-replies',
];
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

interface Sent {
  readonly msgid: string;
  readonly time: string;
  readonly text: string;
}

/** `msgid`, `time` and text of a PRIVMSG line. */
function parse(line: string): Sent {
  const tags = new Map(
    line
      .slice(1, line.indexOf(' '))
      .split(';')
      .map((tag) => tag.split('=') as [string, string]),
  );
  return {
    msgid: tags.get('msgid')!,
    time: tags.get('time')!,
    text: line.slice(line.indexOf(' :', line.indexOf('PRIVMSG')) + 2),
  };
}

/** Joins a fresh channel and says ten things, each echoed with its msgid and time. */
async function tenMessages(): Promise<{ client: IrcLineClient; sent: Sent[] }> {
  const client = await IrcLineClient.register(port, 'bar', CAPS);
  clients.push(client);
  client.send('JOIN #hist');
  await client.next(/ 366 bar #hist /);
  const sent: Sent[] = [];
  for (let i = 0; i < 10; i++) {
    client.send(`PRIVMSG #hist :this is message ${i}`);
    sent.push(parse(await client.next(`PRIVMSG #hist :this is message ${i}`)));
  }
  expect(new Set(sent.map((each) => each.msgid)).size).toBe(10);
  return { client, sent };
}

/** Sends a CHATHISTORY line; returns the messages of the one batch that answers it. */
async function history(client: IrcLineClient, line: string): Promise<Sent[]> {
  client.send(line);
  const open = await client.next(/ BATCH \+\S+ chathistory #hist$/);
  const id = /BATCH \+(\S+)/.exec(open)![1]!;
  const inside: Sent[] = [];
  for (;;) {
    const next = await client.next(/./);
    if (next.endsWith(`BATCH -${id}`)) return inside;
    expect(next).toMatch(new RegExp(`^@batch=${id};`));
    inside.push(parse(next));
  }
}

describe('CHATHISTORY subcommands', () => {
  it('LATEST: the newest N, or those after a msgid', async () => {
    const { client, sent } = await tenMessages();
    expect(await history(client, 'CHATHISTORY LATEST #hist * 20')).toEqual(sent);
    expect(await history(client, 'CHATHISTORY LATEST #hist * 5')).toEqual(sent.slice(-5));
    expect(await history(client, 'CHATHISTORY LATEST #hist * 1')).toEqual(sent.slice(-1));
    expect(await history(client, `CHATHISTORY LATEST #hist msgid=${sent[4]!.msgid} 20`)).toEqual(
      sent.slice(5),
    );
  });

  it('BEFORE and AFTER: the nearest N on that side, the reference excluded', async () => {
    const { client, sent } = await tenMessages();
    expect(await history(client, `CHATHISTORY BEFORE #hist msgid=${sent[6]!.msgid} 20`)).toEqual(
      sent.slice(0, 6),
    );
    expect(await history(client, `CHATHISTORY BEFORE #hist msgid=${sent[6]!.msgid} 2`)).toEqual(
      sent.slice(4, 6),
    );
    expect(await history(client, `CHATHISTORY AFTER #hist msgid=${sent[3]!.msgid} 20`)).toEqual(
      sent.slice(4),
    );
    expect(await history(client, `CHATHISTORY AFTER #hist msgid=${sent[3]!.msgid} 3`)).toEqual(
      sent.slice(4, 7),
    );
  });

  it('BETWEEN: strictly between, the N nearest to the first reference, either way', async () => {
    const { client, sent } = await tenMessages();
    const [first, last] = [sent[0]!.msgid, sent[9]!.msgid];
    expect(
      await history(client, `CHATHISTORY BETWEEN #hist msgid=${first} msgid=${last} 20`),
    ).toEqual(sent.slice(1, -1));
    expect(
      await history(client, `CHATHISTORY BETWEEN #hist msgid=${last} msgid=${first} 20`),
    ).toEqual(sent.slice(1, -1));
    expect(
      await history(client, `CHATHISTORY BETWEEN #hist msgid=${first} msgid=${last} 3`),
    ).toEqual(sent.slice(1, 4));
    expect(
      await history(client, `CHATHISTORY BETWEEN #hist msgid=${last} msgid=${first} 3`),
    ).toEqual(sent.slice(-4, -1));
  });

  it('AROUND: the message itself, and those around it', async () => {
    const { client, sent } = await tenMessages();
    expect(await history(client, `CHATHISTORY AROUND #hist msgid=${sent[7]!.msgid} 1`)).toEqual([
      sent[7],
    ]);
    expect(await history(client, `CHATHISTORY AROUND #hist msgid=${sent[7]!.msgid} 3`)).toEqual(
      sent.slice(6, 9),
    );
    expect(await history(client, `CHATHISTORY AROUND #hist msgid=${sent[1]!.msgid} 6`)).toEqual(
      sent.slice(0, 5),
    );
  });

  it('answers a bad target, reference or count with FAIL', async () => {
    const { client } = await tenMessages();
    const other = await IrcLineClient.register(port, 'qux', CAPS);
    clients.push(other);
    other.send('JOIN #other');
    await other.next(/ 366 qux #other /);
    client.send('CHATHISTORY LATEST #nonexistent_channel * 10');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_TARGET LATEST #nonexistent_channel :/);
    // A real channel one is not in looks the same as none.
    client.send('CHATHISTORY LATEST #other * 10');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_TARGET LATEST #other :/);
    client.send('CHATHISTORY AFTER #hist timestamp=2020-01-01T00:00:00.000Z 10');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_PARAMS AFTER timestamp=\S+ :/);
    client.send('CHATHISTORY BEFORE #hist * 10');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_PARAMS BEFORE \* :/);
    client.send('CHATHISTORY LATEST #hist * 0');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_PARAMS LATEST 0 :/);
    client.send('CHATHISTORY BETWEEN #hist msgid=1 10');
    await client.next(/^:confab FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN :/);
    client.send('CHATHISTORY SIDEWAYS #hist * 10');
    await client.next(/^:confab FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS :/);
  });
});
