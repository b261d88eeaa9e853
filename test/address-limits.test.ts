import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, ConnectionClosedError } from '../src/client/client.js';
import { addressGroup } from '../src/transport/address-limits.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.dispose();
  server = undefined;
});

async function connectFrom(localAddress: string): Promise<ChatClient> {
  const client = await ChatClient.connect({
    host: '127.0.0.1',
    port: server!.port,
    localAddress,
  });
  clients.push(client);
  return client;
}

async function refusal(localAddress = '127.0.0.1'): Promise<ConnectionClosedError> {
  const error = await connectFrom(localAddress).then(
    () => new Error('the connection was accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionClosedError);
  return error as ConnectionClosedError;
}

describe('address grouping', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(addressGroup('192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('per-address connection limits', () => {
  it('refuse connections past maxConnectionsPerIp with a clear reason, per address', async () => {
    server = await startTestServer({ set: { maxConnectionsPerIp: 3 } });
    const open = [
      await connectFrom('127.0.0.1'),
      await connectFrom('127.0.0.1'),
      await connectFrom('127.0.0.1'),
    ];
    const error = await refusal('127.0.0.1');
    expect(error.code).toBe('too_many_connections');
    expect(error.message).toMatch(/at most 3/);
    // Another address is counted on its own.
    const other = await connectFrom('127.0.0.2');
    await expect(other.login('other')).resolves.toMatchObject({ nick: 'other' });
    // A closed connection frees its place.
    await open[0]!.quit();
    let again: ChatClient | undefined;
    for (let attempt = 0; attempt < 50 && !again; attempt++)
      again = await connectFrom('127.0.0.1').catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      });
    expect(again).toBeDefined();
    await expect(again!.login('again')).resolves.toMatchObject({ nick: 'again' });
  });

  it('throttle new connections per address per minute', async () => {
    server = await startTestServer({ set: { connectionsPerMinutePerIp: 4 } });
    for (let i = 0; i < 4; i++) (await connectFrom('127.0.0.1')).destroy();
    const error = await refusal('127.0.0.1');
    expect(error.code).toBe('connecting_too_fast');
    expect(error.message).toMatch(/at most 4 a minute/);
    await expect(connectFrom('127.0.0.3')).resolves.toBeInstanceOf(ChatClient);
  });
});
