import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../src/core/clock.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Wire } from './helpers/wire.js';

/**
 * The transcripts in docs/protocol.md ("Transcripts") are what a real server sent: each is
 * made here on a fresh server and compared with the document, line by line, after the
 * values that differ from run to run (times, tokens, session ids, the catalogue hash, the
 * version) are replaced by fixed stand-ins. `CONTRACT_WRITE=1` writes them into the
 * document instead.
 */

const DOC = new URL('../docs/protocol.md', import.meta.url);
const TIME_KEYS = new Set(['ts', 'at', 'expiresAt', 'since', 'lastSeen', 'lastAt']);
const FIXED_TIME = 1765090000000;

/** Stand-ins for what changes between runs, numbered in order of appearance. */
class Normaliser {
  private readonly names = new Map<string, string>();
  private counts = new Map<string, number>();

  private standIn(kind: string, value: string): string {
    const key = `${kind}:${value}`;
    let name = this.names.get(key);
    if (!name) {
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      name = `<${kind}-${n}>`;
      this.names.set(key, name);
    }
    return name;
  }

  line(dir: '>' | '<', frame: object): string {
    const json = JSON.stringify(frame, (key, value: unknown) => {
      if (TIME_KEYS.has(key) && typeof value === 'number') return FIXED_TIME;
      if (key === 'resumeToken' || key === 'token') return this.standIn('token', String(value));
      if (key === 'session' && typeof value === 'string') return this.standIn('session', value);
      if (key === 'catalogue' || key === 'hash') return '<catalogue-hash>';
      if (key === 'version' && typeof value === 'string') return '<version>';
      if (key === 'idleSeconds') return 0;
      // A long run of one letter (the too-long message) is shown by its length.
      if (typeof value === 'string' && /^(.)\1{59,}$/.test(value))
        return `${value.slice(0, 8)}… (${value.length} × ${value[0]})`;
      return value;
    });
    return `${dir} ${json}`;
  }
}

function render(wire: Wire, elide: (frame: object) => object = (frame) => frame): string[] {
  wire.sync();
  const normaliser = new Normaliser();
  return wire.transcript.map(({ dir, frame }) => normaliser.line(dir, elide(frame)));
}

/** The lines of the fenced block after `<!-- transcript:NAME -->` in the document. */
function documented(doc: string, name: string): { start: number; end: number; lines: string[] } {
  const marker = `<!-- transcript:${name} -->`;
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/protocol.md has no ${marker}`);
  const start = doc.indexOf('```text\n', at) + '```text\n'.length;
  // The closing fence starts a line; an empty block has it right after the opening one.
  const end = doc.startsWith('```', start) ? start : doc.indexOf('\n```', start) + 1;
  const body = doc.slice(start, end);
  return { start, end, lines: body === '' ? [] : body.slice(0, -1).split('\n') };
}

function check(name: string, lines: string[]): void {
  const doc = readFileSync(DOC, 'utf8');
  const block = documented(doc, name);
  if (process.env.CONTRACT_WRITE) {
    writeFileSync(DOC, doc.slice(0, block.start) + lines.join('\n') + '\n' + doc.slice(block.end));
    return;
  }
  expect(block.lines).toEqual(lines);
}

/**
 * Real time, except while `frozenAt` is set: a burst then arrives at one instant however
 * the socket splits it, so the flood limiter's answers (`retryAfterMs`) are the same on
 * every run. Timers still run in real time.
 */
class FreezableClock implements Clock {
  frozenAt: number | undefined;
  now = () => this.frozenAt ?? Date.now();
  setTimeout = systemClock.setTimeout;
  clearTimeout = systemClock.clearTimeout;
}

// Each server here runs without store latency, whatever CONFAB_TEST_STORE_LATENCY says: a
// transcript is an exact example of a plain server, and under a late store the mids of
// pipelined messages follow a shuffled commit order (a 20:20 run gave "one" mid 2).
describe('protocol transcripts (real server)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('connect to quit', async () => {
    server = await startTestServer({ storeLatency: null });
    const alice = await Wire.connect(server.port);
    await alice.ok('hello', { protocols: [1], capabilities: ['files', 'resume'] });
    await alice.ok('nick', { nick: 'alice' });
    const bob = await Wire.connect(server.port);
    await bob.ok('nick', { nick: 'bob' });
    await alice.event('online', 0);
    await alice.ok('say', { room: 'lobby', text: 'hi all' });
    await bob.ok('say', { room: 'lobby', text: 'hello alice' });
    await alice.event('message');
    await alice.ok('msg', { to: ['bob'], text: 'lunch?' });
    await bob.ok('msg', { to: ['alice'], text: 'yes' });
    await alice.event('private');
    await alice.ok('quit', { message: 'off to lunch' });
    await alice.raw.closed();
    bob.destroy();
    check('connect-to-quit', render(alice));
  });

  it('a resume with its replay', async () => {
    server = await startTestServer({ storeLatency: null });
    const bob = await Wire.connect(server.port);
    await bob.ok('nick', { nick: 'bob' });
    const carol = await Wire.connect(server.port);
    const login = await carol.ok<{ resumeToken: string }>('nick', { nick: 'carol' });
    await carol.ok('create', { room: 'den' });
    await bob.ok('say', { room: 'lobby', text: 'anyone here?' });
    await carol.event('message');
    carol.sync();
    const lastEventId = Math.max(
      ...carol.frames.flatMap((frame) => ('ev' in frame && 'id' in frame ? [frame.id] : [])),
    );
    carol.destroy();
    // Until the server sees the socket closed, carol is online: wait for it to be away.
    for (let tries = 0; tries < 100; tries++) {
      const { users } = await bob.ok<{ users: { nick: string; status: string }[] }>('who');
      if (users.find((user) => user.nick === 'carol')?.status === 'away') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await bob.ok('say', { room: 'lobby', text: 'carol?' });
    await bob.ok('msg', { to: ['carol'], text: 'call me when you are back' });
    const back = await Wire.connect(server.port);
    await back.ok('resume', { token: login.resumeToken, lastEventId });
    await back.event('room_entered');
    await bob.ok('say', { room: 'lobby', text: 'welcome back' });
    await back.raw.until(
      () => back.eventsSince(0).some((event) => event.text === 'welcome back'),
      5000,
      'the live message',
    );
    bob.destroy();
    back.destroy();
    check('resume-lost', render(carol));
    check('resume', render(back));
  });

  it('flood control: delayed, then rate_limited, then flooding', async () => {
    const clock = new FreezableClock();
    server = await startTestServer({
      clock,
      set: { 'flood.burst': 2, 'flood.perSecond': 2 },
      storeLatency: null,
    });
    const wire = await Wire.connect(server.port);
    await wire.ok('nick', { nick: 'erin' });
    clock.frozenAt = Date.now();
    const ids = ['one', 'two', 'three', 'four', 'five'].map((text) =>
      wire.send('say', { room: 'lobby', text }),
    );
    for (const id of ids) await wire.reply(id);
    const sixth = wire.send('say', { room: 'lobby', text: 'six' });
    await wire.reply(sixth);
    await wire.raw.closed();
    check('flood', render(wire));
  });

  it('one example of each kind of error', async () => {
    server = await startTestServer({ storeLatency: null });
    const wire = await Wire.connect(server.port);
    const raw = (text: string, shown = text) => {
      wire.sync();
      wire.transcript.push({ dir: '>', frame: { raw: shown } });
      wire.raw.write(text + '\n');
    };
    const answered = (count: number) =>
      wire.raw.until(() => wire.frames.filter((frame) => 're' in frame).length >= count);
    raw('this is not json');
    await answered(1);
    raw('[1,2,3]');
    await answered(2);
    raw('{"id":100}');
    await answered(3);
    await wire.call('dance');
    await wire.call('say', { room: 'lobby', text: 'hi' });
    await wire.call('nick', { nick: 42 });
    await wire.call('nick', { nick: 'no spaces' });
    await wire.ok('nick', { nick: 'dave' });
    await wire.call('msg', { to: ['nobody'], text: 'hello?' });
    await wire.call('say', { room: 'lobby', text: 'x'.repeat(281) });
    const big = JSON.stringify({ id: 101, cmd: 'say', args: { text: 'y'.repeat(70_000) } });
    raw(big, `{"id":101,"cmd":"say","args":{"text":"yyyyyyyy… (${big.length} bytes in all)"}}`);
    await wire.raw.closed();
    const lines = render(wire).map((line) =>
      // A raw write is shown as sent, not as a JSON object around it.
      line.replace(/^> \{"raw":(".*")\}$/, (_, text: string) => `> ${JSON.parse(text) as string}`),
    );
    check('errors', lines);
  });
});
