import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol/events.js';
import { MAX_REQUESTS_BEFORE_LOGIN } from '../src/core/limits/request-guard.js';
import { RawClient } from './helpers/raw-client.js';
import { startTestServer, type TestServer, type TestServerOptions } from './helpers/server.js';

let server: TestServer | undefined;
const raws: RawClient[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.dispose();
  server = undefined;
});

async function start(set: TestServerOptions['set'] = {}): Promise<TestServer> {
  server = await startTestServer({ set });
  return server;
}

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  raws.push(client);
  await client.until(() => client.frames.length > 0, 5000, 'hello');
  return client;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('oversize frames', () => {
  it('get frame_too_large and a closed connection, and the rest of the flood is never read', async () => {
    const { port } = await start({ 'frame.maxBytes': 1024 });
    const client = await raw(port);
    await client.login('big');
    // 2 MiB without a line feed: the server must give up at the limit, not buffer it all.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 32 && !client.isClosed; i++) client.write(chunk);
    await client.closed();
    expect(client.closingCode).toBe('frame_too_large');
    expect(
      client.frames.some((f) => 're' in f && !f.ok && f.error.code === 'frame_too_large'),
    ).toBe(true);
  });
});

describe('frames the server sends', () => {
  it('replaces a reply over hello.limits.serverFrameMaxBytes with reply_too_large, and carries on', async () => {
    const { port } = await start({ 'flood.burst': 500, 'flood.perSecond': 500 });
    const client = await raw(port);
    const hello = client.frames[0] as { limits: { serverFrameMaxBytes: number } };
    const limit = hello.limits.serverFrameMaxBytes;
    expect(limit).toBe(4 * 2 ** 20);
    await client.login('big');
    // 280 characters of a letter with 110 combining accents each: one message is about
    // 62 KB (under frame.maxBytes), 80 of them a history page of about 5 MB.
    const text = ('a' + '\u0301'.repeat(110)).repeat(280);
    const count = 80;
    for (let i = 0; i < count; i++)
      client.send({ id: 10 + i, cmd: 'say', args: { room: 'lobby', text } });
    await client.until(() => client.replyTo(10 + count - 1) !== undefined, 30_000, 'the says');
    for (let i = 0; i < count; i++) expect(client.replyTo(10 + i)).toMatchObject({ ok: true });
    client.send({ id: 200, cmd: 'history', args: { room: 'lobby', count } });
    await client.until(() => client.replyTo(200) !== undefined, 30_000, 'the history reply');
    expect(client.replyTo(200)).toEqual({
      re: 200,
      ok: false,
      error: {
        code: 'reply_too_large',
        message: `The reply would exceed ${limit} bytes`,
        details: { limit },
      },
    });
    // Nothing else happened: the connection serves the next request, a page that fits.
    client.send({ id: 201, cmd: 'history', args: { room: 'lobby', count: 10 } });
    await client.until(() => client.replyTo(201) !== undefined, 10_000, 'a smaller page');
    const page = client.replyTo(201) as { ok: boolean; data: { messages: unknown[] } };
    expect(page.ok).toBe(true);
    expect(page.data.messages).toHaveLength(10);
    expect(client.isClosed).toBe(false);
  }, 60_000);
});

describe('read backpressure', () => {
  it('stops reading a connection 64 requests ahead of its replies, answering those in order', async () => {
    // Every store call takes 200 ms: requests pile up behind their commits.
    server = await startTestServer({
      set: { 'flood.burst': 5000, 'flood.perSecond': 5000 },
      storeLatency: { minMs: 200, maxMs: 200 },
    });
    const client = await raw(server.port);
    await client.login('pipeliner');
    // 1,000 messages of about 59 KB: 59 MB, far more than the loopback buffers hold (16 MB
    // on the machine this was written on).
    const text = ('b' + '\u0301'.repeat(105)).repeat(280);
    const count = 1000;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const frame = JSON.stringify({ id: 10 + i, cmd: 'say', args: { room: 'lobby', text } });
      total += Buffer.byteLength(frame) + 1;
      client.write(frame + '\n');
    }
    // A server that read on regardless would hold it all within seconds (with the limit
    // lifted it emptied the client's send buffer after 3.5 s here) and leave nothing in the
    // client's send buffer; one that stops at 64 pending requests reads only as fast as it
    // answers (about 60 a second here), so most of it stays with the client throughout.
    let least = Infinity;
    for (let sample = 0; sample < 24; sample++) {
      await sleep(250);
      least = Math.min(least, client.socket.writableLength);
    }
    expect(least).toBeGreaterThan(total / 4);
    const replies = client.frames.flatMap((frame) => ('re' in frame ? [frame] : []));
    const answered = replies.map((reply) => reply.re ?? -1).filter((re) => re >= 10);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered).toEqual(Array.from({ length: answered.length }, (_, i) => 10 + i));
    expect(replies.every((reply) => reply.ok)).toBe(true);
  }, 60_000);
});

describe('registration deadline', () => {
  it('closes a connection that never logs in', async () => {
    const { port } = await start({ registrationTimeoutSeconds: 1 });
    const client = await raw(port);
    await client.closed(4000);
    expect(client.closingCode).toBe('registration_timeout');
  });

  it('closes a slowloris that trickles an unfinished frame', async () => {
    const { port } = await start({ registrationTimeoutSeconds: 1 });
    const client = await raw(port);
    const frame = '{"id":1,"cmd":"nick","args":{"nick":"slow"';
    for (let i = 0; i < frame.length && !client.isClosed; i++) {
      client.write(frame[i]!);
      await sleep(100);
    }
    await client.closed(4000);
    expect(client.closingCode).toBe('registration_timeout');
  });

  it('lets a connection that logged in stay past the deadline', async () => {
    const srv = await start({ registrationTimeoutSeconds: 1 });
    const alice = await srv.connect('alice');
    await sleep(2200);
    expect(alice.isClosed).toBe(false);
    await expect(alice.request('ping')).resolves.toEqual({});
  });

  it(`closes a connection that sends more than ${MAX_REQUESTS_BEFORE_LOGIN} requests before logging in`, async () => {
    const { port } = await start();
    const client = await raw(port);
    for (let id = 1; id <= MAX_REQUESTS_BEFORE_LOGIN; id++) client.send({ id, cmd: 'ping' });
    await client.until(() => client.replyTo(MAX_REQUESTS_BEFORE_LOGIN) !== undefined);
    expect(client.isClosed).toBe(false);
    client.send({ id: 99, cmd: 'ping' });
    await client.closed();
    expect(client.closingCode).toBe('too_many_requests');
    // Every request gets exactly one reply, this one included (issue 14).
    expect(client.replyTo(99)).toMatchObject({ ok: false, error: { code: 'too_many_requests' } });
  });
});

describe('keepalive', () => {
  it('pings a silent connection, then drops it with ping_timeout; the session waits for a resume', async () => {
    const srv = await start({ 'ping.intervalSeconds': 1, 'ping.timeoutSeconds': 3 });
    const client = await raw(srv.port);
    await client.login('silent');
    const reply = client.frames.find((f) => 're' in f && f.ok);
    const token = (reply as { data: { resumeToken: string } }).data.resumeToken;
    await client.closed(6000);
    // Connected after the silence, so its own keepalives are never at stake.
    const watcher = await srv.connect('watcher');
    const evs = client.frames.filter((f): f is ServerEvent => 'ev' in f).map((f) => f.ev);
    expect(evs.indexOf('ping')).toBeGreaterThan(-1);
    expect(evs.indexOf('ping')).toBeLessThan(evs.indexOf('closing'));
    expect(client.closingCode).toBe('ping_timeout');
    // Silence is a lost connection, not a leave: away, then resumed (laptop sleep, NAT).
    await expect(watcher.request('who')).resolves.toMatchObject({
      users: expect.arrayContaining([expect.objectContaining({ nick: 'silent', status: 'away' })]),
    });
    const again = await srv.open();
    await expect(again.resume(token)).resolves.toMatchObject({ nick: 'silent', resumed: true });
  });

  it('ends a silent session at once when resume is off', async () => {
    const srv = await start({
      'ping.intervalSeconds': 1,
      'ping.timeoutSeconds': 3,
      'resume.graceSeconds': 0,
    });
    const watcher = await srv.connect('watcher');
    const client = await raw(srv.port);
    await client.login('silent');
    const offline = watcher.waitFor((e) => e.ev === 'offline' && e.nick === 'silent', 6000);
    await client.closed(6000);
    expect(client.closingCode).toBe('ping_timeout');
    expect(await offline).toMatchObject({ reason: 'dropped' });
  });

  it('keeps a client that answers pings', async () => {
    // The sweep runs once a second: leave slack between ping and timeout for a busy machine.
    const srv = await start({ 'ping.intervalSeconds': 1, 'ping.timeoutSeconds': 4 });
    const alice = await srv.connect('alice');
    let closed: unknown;
    alice.on('close', (info) => (closed = info));
    const ping = alice.waitFor((e) => e.ev === 'ping', 4000);
    await ping;
    await sleep(3500);
    expect(closed).toBeUndefined();
    await expect(alice.request('who')).resolves.toMatchObject({ users: [{ nick: 'alice' }] });
  });

  it('does not count an unfinished frame as life', async () => {
    const srv = await start({ 'ping.intervalSeconds': 1, 'ping.timeoutSeconds': 3 });
    const client = await raw(srv.port);
    await client.login('dribbler');
    const frame = '{"id":2,"cmd":"ping"';
    for (let i = 0; !client.isClosed && i < 80; i++) {
      client.write(frame[i % frame.length]!);
      await sleep(100);
    }
    expect(client.isClosed).toBe(true);
    expect(client.closingCode).toBe('ping_timeout');
  });
});

describe('send queue', () => {
  it('drops a client that stops reading, keeps memory bounded and others served', async () => {
    const sendq = 64 * 1024;
    const srv = await start({
      sendqBytes: sendq,
      'message.maxLength': 8000,
      'flood.burst': 100_000,
      'flood.perSecond': 100_000,
    });
    const stalled = await raw(srv.port);
    await stalled.login('stalled');
    stalled.socket.pause();
    const sender = await srv.connect('sender');
    const reader = await srv.connect('reader');
    const received: number[] = [];
    reader.on('event', (e) => {
      if (e.ev === 'message') received.push(e.mid);
    });
    const dropped = reader.waitFor((e) => e.ev === 'offline' && e.nick === 'stalled', 30_000);
    let droppedYet = false;
    void dropped.then(() => (droppedYet = true));
    const text = 'x'.repeat(8000);
    const mids: number[] = [];
    // Kernel socket buffers on loopback hold several MiB before the server's queue grows:
    // send until the stalled client is dropped (bounded: 4,000 × 8 KB = 32 MB at most), five
    // at a time, so one turn's fan-out is at most 5 frames.
    for (let batch = 0; batch < 800 && !droppedYet; batch++) {
      const acks = await Promise.all(
        Array.from({ length: 5 }, () => sender.request<{ mid: number }>('say', { text })),
      );
      mids.push(...acks.map((ack) => ack.mid));
    }
    expect(await dropped).toMatchObject({ reason: 'dropped' });
    // Everyone else got every message, in order, and the server still answers.
    await reader.request('ping');
    expect(received).toEqual(mids);
    await expect(sender.request('who')).resolves.toMatchObject({
      users: [{ nick: 'reader' }, { nick: 'sender' }],
    });
    // The server never held much more than the limit for it: one turn's output at most.
    await srv.stop();
    const log = readFileSync(path.join(srv.server.logDir, 'server.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"sendq_exceeded"'))
      .map((line) => JSON.parse(line) as { queued: number });
    expect(log).toHaveLength(1);
    expect(log[0]!.queued).toBeGreaterThan(sendq);
    expect(log[0]!.queued).toBeLessThanOrEqual(sendq + 5 * 8200);
  });
});

describe('send queue and a reading client', () => {
  it('does not drop a client that reads when one turn of output exceeds the SendQ', async () => {
    const sendq = 48 * 1024;
    const srv = await start({
      sendqBytes: sendq,
      'message.maxLength': 4000,
      'flood.burst': 100_000,
      'flood.perSecond': 100_000,
    });
    const sender = await srv.connect('sender');
    const reader = await srv.connect('reader');
    let count = 0;
    reader.on('event', (e) => {
      if (e.ev === 'message') count++;
    });
    // 40 pipelined messages commit together and fan out in one turn: about 160 KB, over
    // three SendQs, to a client that reads all along.
    const text = 'y'.repeat(4000);
    await Promise.all(Array.from({ length: 40 }, () => sender.request('say', { text })));
    await reader.request('ping');
    expect(count).toBe(40);
    expect(reader.isClosed).toBe(false);
  });
});
