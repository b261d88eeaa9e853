import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { FLUSH_SLICE, Outbox } from '../src/transport/layer/outbox.js';
import { STORE_LATENCY_ENV } from '../src/store/latency-store.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The native transport coalesces each socket's output (one write per event-loop turn, and
// presence notices held briefly to share a write). Coalescing must never lose, split or
// reorder frames.

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ set: { 'flood.burst': 1000, 'flood.perSecond': 1000 } });
});
afterEach(async () => {
  await server.dispose();
});

function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

describe('coalesced output', () => {
  it('delivers a burst of frames complete and in order, replies and events alike', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const received = collect(bob);
    const count = 200;
    const acks = await Promise.all(
      Array.from({ length: count }, (_, i) => alice.request('say', { text: `message ${i}` })),
    );
    const mids = acks.map((ack) => ack.mid as number);
    expect(new Set(mids).size).toBe(count);
    // Ids follow call order only where the store does (SQLite); see test/pipelining.test.ts.
    if (!process.env[STORE_LATENCY_ENV]) expect(mids).toEqual([...mids].sort((a, b) => a - b));
    const messages = () => received.filter((event) => event.ev === 'message').length;
    if (messages() < count) await bob.waitFor(() => messages() === count, 10_000);
    const texts = received.flatMap((event) => (event.ev === 'message' ? [event.text] : []));
    expect(texts).toEqual(Array.from({ length: count }, (_, i) => `message ${i}`));
  });

  it('never lets a held presence notice arrive after a later message', async () => {
    const bob = await server.connect('bob');
    const received = collect(bob);
    const carol = await server.connect('carol');
    const message = bob.waitFor((event) => event.ev === 'message');
    await carol.request('say', { text: 'hi bob' });
    await message;
    const names = received.map((event) => event.ev);
    expect(names.indexOf('online')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('online')).toBeLessThan(names.indexOf('message'));
    const ids = received.flatMap((event) => ('id' in event ? [event.id] : []));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('delivers a presence notice on its own, without later traffic to carry it', async () => {
    const bob = await server.connect('bob');
    const online = bob.waitFor((event) => event.ev === 'online' && event.nick === 'dave');
    await server.connect('dave');
    await expect(online).resolves.toMatchObject({ ev: 'online', nick: 'dave' });
  });

  it('flushes the closing frame before the connection ends', async () => {
    const erin = await server.connect('erin');
    await erin.quit();
    await expect(erin.closed()).resolves.toMatchObject({ code: 'quit' });
  });
});

describe('flushing in slices', () => {
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  function fakeSocket(log: string[], name: string): Socket {
    const socket = {
      destroyed: false,
      writable: true,
      write(chunk: Buffer) {
        log.push(`${name}:${chunk.toString()}`);
        return true;
      },
      cork() {},
      uncork() {},
    };
    return socket as unknown as Socket;
  }

  it('writes a large fan-out a slice per turn, first queued first written, output joining sockets still waiting', async () => {
    const log: string[] = [];
    const count = FLUSH_SLICE + 5;
    const outboxes = Array.from({ length: count }, (_, i) => new Outbox(fakeSocket(log, `s${i}`)));
    for (const outbox of outboxes) outbox.push(Buffer.from('a'));
    await nextTurn();
    expect(log).toHaveLength(FLUSH_SLICE);
    // Between slices: a second message reaches one socket already written and one waiting.
    outboxes[0]!.push(Buffer.from('b'));
    outboxes[count - 1]!.push(Buffer.from('b'));
    await nextTurn();
    await nextTurn();
    expect(log).toHaveLength(count + 1);
    expect(log.slice(FLUSH_SLICE)).toEqual([
      ...Array.from({ length: 4 }, (_, i) => `s${FLUSH_SLICE + i}:a`),
      `s${count - 1}:ab`,
      's0:b',
    ]);
  });
});
