import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { WebSocketWire } from '../src/transport/websocket/wire.js';

/**
 * The WebSocket wire over real `ws` sockets on loopback: the frames of one flush leave in
 * one system call (the stream under the WebSocket is corked around them), each still its
 * own message. Without it every frame is a `writev` of its own, the cost that made the
 * WebSocket's p99 seven times the native one in `npm run bench -- ws`.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function pair(): Promise<{ server: WebSocket; stream: Socket; client: WebSocket }> {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const accepted = new Promise<{ server: WebSocket; stream: Socket }>((resolve) =>
    httpServer.on('upgrade', (request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (ws) =>
        resolve({ server: ws, stream: socket as Socket }),
      ),
    ),
  );
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  const { server, stream } = await accepted;
  await new Promise((resolve) => client.once('open', resolve));
  cleanups.push(() => {
    client.terminate();
    server.terminate();
    httpServer.close();
  });
  return { server, stream, client };
}

describe('WebSocketWire', () => {
  it('sends a corked flush of frames in one write, one message per frame', async () => {
    const { server, stream, client } = await pair();
    const wire = new WebSocketWire(server, stream);
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data) => {
        received.push(String(data));
        if (received.length === 3) resolve();
      }),
    );
    const writes: number[] = [];
    const original = stream._writev!.bind(stream);
    stream._writev = (chunks, callback) => {
      writes.push(chunks.length);
      original(chunks, callback);
    };
    wire.cork();
    for (const text of ['{"a":1}', '{"b":2}', '{"c":3}']) wire.write(Buffer.from(text));
    wire.uncork();
    await all;
    expect(received).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    // Header and payload of each of the three messages, in one writev.
    expect(writes).toEqual([6]);
  });

  it('without the stream, each message is written on its own', async () => {
    const { server, stream, client } = await pair();
    const wire = new WebSocketWire(server);
    const writes: number[] = [];
    const original = stream._writev!.bind(stream);
    stream._writev = (chunks, callback) => {
      writes.push(chunks.length);
      original(chunks, callback);
    };
    const received = new Promise<void>((resolve) => {
      let count = 0;
      client.on('message', () => ++count === 3 && resolve());
    });
    wire.cork();
    for (const text of ['1', '2', '3']) wire.write(Buffer.from(text));
    wire.uncork();
    await received;
    expect(writes).toEqual([2, 2, 2]);
  });
});
