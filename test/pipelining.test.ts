import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol/events.js';
import { STORE_LATENCY_ENV } from '../src/store/latency-store.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({
    set: { 'flood.burst': 10_000, 'flood.perSecond': 10_000, 'message.maxLength': 20 },
  });
});
afterEach(async () => {
  await server.dispose();
});

describe('pipelined messages', () => {
  it('answer in request order and reach others in send order, errors and all', async () => {
    const reader = await server.connect('reader');
    const received: ServerEvent[] = [];
    reader.on('event', (event) => received.push(event));

    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    const frames: Array<Record<string, unknown>> = [];
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        frames.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
        buffer = buffer.slice(newline + 1);
      }
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(JSON.stringify({ id: 0, cmd: 'nick', args: { nick: 'writer' } }) + '\n');
    for (let i = 0; i < 500 && !frames.some((f) => f.re === 0); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const requests: string[] = [];
    const total = 150;
    for (let id = 1; id <= total; id++) {
      // Every 25th is refused at once (too long) while its neighbours wait for their commit.
      const text = id % 25 === 0 ? 'x'.repeat(21) : `m${id}`;
      const cmd = id % 10 === 0 ? 'msg' : 'say';
      const args = cmd === 'msg' ? { to: ['reader'], text } : { room: 'lobby', text };
      requests.push(JSON.stringify({ id, cmd, args }));
    }
    requests.push(JSON.stringify({ id: total + 1, cmd: 'who' }));
    // One write: the server sees the whole burst before any commit finishes.
    socket.write(requests.join('\n') + '\n');

    for (let i = 0; i < 500 && !frames.some((f) => f.re === total + 1); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const replies = frames.filter((f) => 're' in f);
    expect(replies.map((r) => r.re)).toEqual(Array.from({ length: total + 2 }, (_, i) => i));
    for (const reply of replies.slice(1, -1)) {
      const id = reply.re as number;
      expect(reply.ok, `reply ${id}`).toBe(id % 25 !== 0);
    }
    const mids = replies
      .slice(1, -1)
      .flatMap((r) => (r.ok ? [(r.data as { mid: number }).mid] : []));
    // Message ids are unique; their order is the store's commit order, which the store
    // contract does not tie to call order. The SQLite store does assign them in call order,
    // so without injected latency they follow send order too.
    expect(new Set(mids).size).toBe(mids.length);
    if (!process.env[STORE_LATENCY_ENV]) expect(mids).toEqual([...mids].sort((a, b) => a - b));

    await reader.request('ping');
    const texts = received.flatMap((e) =>
      (e.ev === 'message' || e.ev === 'private') && e.from === 'writer' ? [e.text] : [],
    );
    const expected = Array.from({ length: total }, (_, i) => i + 1)
      .filter((id) => id % 25 !== 0)
      .map((id) => `m${id}`);
    expect(texts).toEqual(expected);
    socket.destroy();
  });
});
