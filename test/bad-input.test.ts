import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ set: { 'frame.maxBytes': 1024 } });
});
afterEach(async () => {
  await server.dispose();
});

/** A raw socket that collects every frame the server sends. */
async function rawConnection(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const frames: Array<Record<string, unknown>> = [];
  let buffer = '';
  let closed = false;
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      frames.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
    }
  });
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const until = async (predicate: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!predicate()) throw new Error(`timed out waiting for ${what}`);
  };
  return {
    socket,
    frames,
    isClosed: () => closed,
    until,
    replyTo: async (id: number | null) => {
      await until(() => frames.some((f) => 're' in f && f.re === id), `reply to ${id}`);
      return frames.find((f) => 're' in f && f.re === id)!;
    },
  };
}

describe('bad input', () => {
  it('answers each kind of garbage with a clear error and keeps the connection usable', async () => {
    const conn = await rawConnection(server.port);
    conn.socket.write('this is not json\n');
    expect(await conn.replyTo(null)).toMatchObject({ ok: false, error: { code: 'bad_frame' } });
    conn.frames.length = 0;
    conn.socket.write(
      Buffer.concat([
        Buffer.from('{"id":1,"cmd":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
    );
    expect(await conn.replyTo(null)).toMatchObject({ error: { code: 'invalid_utf8' } });
    conn.socket.write('[1,2,3]\n{"cmd":"ping"}\n{"id":2}\n{"id":3,"cmd":"ping","args":[1]}\n');
    expect(await conn.replyTo(2)).toMatchObject({ error: { code: 'bad_request' } });
    expect(await conn.replyTo(3)).toMatchObject({ error: { code: 'bad_request' } });
    conn.socket.write(
      '{"id":4,"cmd":"teleport"}\n{"id":5,"cmd":"nick","args":{}}\n{"id":6,"cmd":"nick","args":{"nick":42}}\n',
    );
    expect(await conn.replyTo(4)).toMatchObject({ error: { code: 'unknown_command' } });
    expect(await conn.replyTo(5)).toMatchObject({ error: { code: 'invalid_args' } });
    expect(await conn.replyTo(6)).toMatchObject({ error: { code: 'invalid_args' } });
    conn.socket.write('{"id":7,"cmd":"nick","args":{"nick":"survivor"}}\n');
    expect(await conn.replyTo(7)).toMatchObject({ ok: true, data: { nick: 'survivor' } });
    expect(conn.isClosed()).toBe(false);
  });

  it('closes a connection that sends an oversize frame, with a reason', async () => {
    const conn = await rawConnection(server.port);
    conn.socket.write('{"id":1,"cmd":"ping","pad":"' + 'x'.repeat(5000));
    await conn.until(conn.isClosed, 'close');
    expect(conn.frames.find((f) => f.ev === 'closing')).toMatchObject({ code: 'frame_too_large' });
  });

  it('closes a connection that keeps sending garbage, and goes on serving others', async () => {
    const bystander = await server.connect('bystander');
    const conn = await rawConnection(server.port);
    conn.socket.write('garbage\n'.repeat(50));
    await conn.until(conn.isClosed, 'close');
    expect(conn.frames.find((f) => f.ev === 'closing')).toMatchObject({ code: 'too_many_errors' });
    await expect(bystander.request('who')).resolves.toMatchObject({
      users: [{ nick: 'bystander' }],
    });
  });

  it('survives random bytes from many connections', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed / 0x7fffffff);
    const connections = await Promise.all(
      Array.from({ length: 10 }, () => rawConnection(server.port)),
    );
    for (const conn of connections) {
      const noise = Buffer.from(Array.from({ length: 4000 }, () => Math.floor(random() * 256)));
      conn.socket.write(noise);
      conn.socket.end();
    }
    await Promise.all(connections.map((conn) => conn.until(conn.isClosed, 'close')));
    const client = await server.connect('after-noise');
    await expect(client.request('say', { text: 'still here' })).resolves.toMatchObject({
      mid: expect.any(Number),
    });
  });
});
