import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../src/cli/admin/make-cert.js';
import { ChatClient, ConnectionClosedError } from '../src/client/client.js';
import { encodeV1, encodeV2, type ProxiedEndpoint } from '../src/transport/proxy-protocol.js';
import { errorOf, loginAdmin } from './admin/helpers.js';
import { RawClient } from './helpers/raw-client.js';
import {
  startTestServer,
  TEST_ADMIN_PASSWORD,
  type TestServer,
  type TestServerOptions,
} from './helpers/server.js';

/**
 * The balancer in these tests is this process connecting from 127.0.0.3 (the only trusted
 * address); everyone else, the admin included, connects from 127.0.0.1 or 127.0.0.2.
 */
const BALANCER = '127.0.0.3';
const servers: TestServer[] = [];
const clients: ChatClient[] = [];
const raws: RawClient[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'confab-proxy-'));
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const raw of raws.splice(0)) raw.destroy();
  for (const server of servers.splice(0)) await server.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer({
    ...options,
    env: { CONFAB_TRUSTED_PROXIES: `${BALANCER}/32`, ...options.env },
  });
  servers.push(server);
  return server;
}

const client = (address: string, port = 40000): ProxiedEndpoint => ({ address, port });

/** A client relayed by the balancer: a PROXY header, then the native protocol. */
async function viaBalancer(
  server: TestServer,
  preface: Uint8Array,
  options: { port?: number; tls?: boolean } = {},
): Promise<ChatClient> {
  const connected = await ChatClient.connect({
    host: '127.0.0.1',
    port: options.port ?? server.port,
    localAddress: BALANCER,
    preface,
    timeoutMs: 5000,
    ...(options.tls && { tls: { rejectUnauthorized: false } }),
  });
  clients.push(connected);
  return connected;
}

function destination(server: TestServer): ProxiedEndpoint {
  return { address: '127.0.0.1', port: server.port };
}

async function raw(server: TestServer, from: string): Promise<RawClient> {
  const connected = await RawClient.connect(server.port, '127.0.0.1', from);
  raws.push(connected);
  return connected;
}

/** The server log's lines once `ready` holds for them (the log is written asynchronously). */
async function logLinesWhen(
  server: TestServer,
  ready: (lines: Array<Record<string, unknown>>) => boolean,
): Promise<Array<Record<string, unknown>>> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lines = logLines(server);
    if (ready(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return logLines(server);
}

const refusals = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => line.event === 'proxy_refused');

function logLines(server: TestServer): Array<Record<string, unknown>> {
  return readFileSync(path.join(server.dataDir, 'logs', 'server.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('PROXY protocol on the native TCP listener', () => {
  it('v1: the client behind the balancer is the one logged, banned and refused', async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const carol = await viaBalancer(
      server,
      encodeV1(client('203.0.113.7', 51000), destination(server)),
    );
    await carol.login('carol');
    const dave = await viaBalancer(server, encodeV1(client('203.0.113.8'), destination(server)));
    await dave.login('dave');
    // The ban takes the address the client came from, not the balancer's.
    const ban = await admin.request('ban', { nick: 'carol', address: true });
    expect(ban).toMatchObject({ address: '203.0.113.7', sharing: [] });
    expect(await carol.closed()).toMatchObject({ code: 'banned' });
    const again = await viaBalancer(server, encodeV1(client('203.0.113.7'), destination(server)));
    expect((await errorOf(again.login('carol2'))).code).toBe('banned');
    // Others behind the same balancer are untouched.
    await expect(dave.request('who')).resolves.toBeDefined();
    const erin = await viaBalancer(server, encodeV1(client('203.0.113.9'), destination(server)));
    await expect(erin.login('erin')).resolves.toMatchObject({ nick: 'erin' });
    const all = await logLinesWhen(server, (lines) =>
      lines.some((line) => line.event === 'connect' && line.address === '203.0.113.9'),
    );
    const logged = all.filter((line) => line.event === 'connect');
    expect(logged.map((line) => line.address)).toEqual(
      expect.arrayContaining(['203.0.113.7', '203.0.113.8', '203.0.113.9']),
    );
    expect(logged.some((line) => line.address === BALANCER)).toBe(false);
    expect(
      all.find((line) => line.event === 'proxied' && line.address === '203.0.113.7'),
    ).toMatchObject({ proxy: BALANCER, port: 51000, version: 1 });
  });

  it("an admin's whois shows the client's own address; nobody else sees any", async () => {
    const server = await start();
    const admin = await loginAdmin(server);
    const carol = await viaBalancer(
      server,
      encodeV1(client('203.0.113.7', 51000), destination(server)),
    );
    await carol.login('carol');
    const plain = await server.open({ localAddress: '127.0.0.2' });
    await plain.login('plain');
    expect(await admin.request('whois', { name: 'carol' })).toMatchObject({
      nick: 'carol',
      online: true,
      address: '203.0.113.7',
    });
    expect(await admin.request('whois', { name: 'plain' })).toMatchObject({
      address: '127.0.0.2',
    });
    // Not an admin: the same answer without the address.
    const asGuest = await plain.request('whois', { name: 'carol' });
    expect(asGuest).toMatchObject({ nick: 'carol', online: true });
    expect(asGuest).not.toHaveProperty('address');
    // A session waiting to be resumed has no connection, so no address.
    carol.destroy();
    for (let attempt = 0; attempt < 100; attempt++) {
      const { status } = await admin.request<{ status: string }>('whois', { name: 'carol' });
      if (status === 'away') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await admin.request('whois', { name: 'carol' })).toMatchObject({
      status: 'away',
      address: null,
    });
  });

  it('lockout counts the client behind the balancer, not the balancer', async () => {
    const server = await start();
    const guesser = await viaBalancer(
      server,
      encodeV1(client('203.0.113.20', 50000), destination(server)),
    );
    for (const guess of ['wrong-one-1', 'wrong-two-2']) {
      const error = await errorOf(guesser.login('admin', guess));
      expect(error.code).toBe('login_failed');
    }
    const third = await errorOf(guesser.login('admin', 'wrong-three-3'));
    expect(third.details).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    // Locked out: even the right password, from that client.
    const locked = await errorOf(guesser.login('admin', TEST_ADMIN_PASSWORD));
    expect(locked.message).toMatch(/Too many failed attempts/);
    // Another client of the same balancer is another address: the owner gets in.
    const owner = await viaBalancer(
      server,
      encodeV1(client('203.0.113.21', 50001), destination(server)),
    );
    await expect(owner.login('admin', TEST_ADMIN_PASSWORD)).resolves.toMatchObject({
      nick: 'admin',
    });
    expect(await owner.request('lockouts')).toMatchObject({
      pairs: [{ nick: 'admin', address: '203.0.113.20' }],
    });
  });

  it('v2 over IPv6 and IPv4: per-address limits count the client, not the balancer', async () => {
    const server = await start({ set: { maxConnectionsPerIp: 1 } });
    const first = await viaBalancer(
      server,
      encodeV2({ source: client('2001:db8::7'), destination: client('2001:db8::1', 7777) }),
    );
    await first.login('first');
    // Same /64: over the limit, told why.
    const refused = await viaBalancer(
      server,
      encodeV2({ source: client('2001:db8::8'), destination: client('2001:db8::1', 7777) }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConnectionClosedError);
    expect((refused as ConnectionClosedError).code).toBe('too_many_connections');
    // Another client behind the same balancer gets in: the balancer is not the one counted.
    const other = await viaBalancer(
      server,
      encodeV2({ source: client('198.51.100.4'), destination: destination(server) }),
    );
    await expect(other.login('other')).resolves.toMatchObject({ nick: 'other' });
    const limited = (lines: Array<Record<string, unknown>>) =>
      lines.filter((line) => line.event === 'connection_refused');
    const lines = await logLinesWhen(server, (all) => limited(all).length > 0);
    expect(limited(lines)).toEqual([expect.objectContaining({ address: '2001:db8::8' })]);
  });

  it('LOCAL (a health check) and v1 UNKNOWN stand for the balancer itself', async () => {
    const server = await start();
    const check = await viaBalancer(server, encodeV2('local'));
    expect(check.hello.ev).toBe('hello');
    await check.login('checker');
    const unknown = await viaBalancer(server, Buffer.from('PROXY UNKNOWN\r\n'));
    await unknown.login('unknown');
    const admin = await loginAdmin(server);
    await expect(admin.request('ban', { nick: 'unknown', address: true })).resolves.toMatchObject({
      address: BALANCER,
    });
  });

  it('refuses a header from an address that is not a trusted balancer', async () => {
    const server = await start();
    for (const header of [
      encodeV1(client('203.0.113.7'), destination(server)),
      encodeV2({ source: client('203.0.113.7'), destination: destination(server) }),
    ]) {
      const peer = await raw(server, '127.0.0.2');
      // The header in two pieces: the first could still be a line of JSON's start... or not.
      peer.write(header.subarray(0, 3));
      await new Promise((resolve) => setTimeout(resolve, 50));
      peer.write(header.subarray(3));
      await peer.closed();
      expect(peer.closingCode).toBe('proxy_refused');
      // It was greeted as itself before it spoke, and never logged in.
      expect(peer.frames[0]).toMatchObject({ ev: 'hello' });
    }
    // Plain clients from the same address are as welcome as ever.
    const plain = await server.open({ localAddress: '127.0.0.2' });
    await expect(plain.login('plain')).resolves.toMatchObject({ nick: 'plain' });
    const lines = await logLinesWhen(server, (all) => refusals(all).length >= 2);
    expect(refusals(lines).map((line) => line.address)).toEqual(['127.0.0.2', '127.0.0.2']);
  });

  it('a trusted balancer must send a header, and a well-formed one', async () => {
    const server = await start();
    const silent = await raw(server, BALANCER);
    silent.send({ id: 1, cmd: 'ping' });
    await silent.closed();
    expect(silent.closingCode).toBe('proxy_refused');
    // Nothing was said to it before the header: no hello, no reply.
    expect(silent.frames.map((frame) => ('ev' in frame ? frame.ev : 'reply'))).toEqual(['closing']);
    const malformed = await raw(server, BALANCER);
    malformed.write('PROXY TCP4 203.0.113.7 127.0.0.1 040000 7777\r\n');
    await malformed.closed();
    expect(malformed.closingCode).toBe('proxy_refused');
  });

  it('reads a header that arrives a few bytes at a time, with the first request behind it', async () => {
    const server = await start();
    const balancer = await raw(server, BALANCER);
    balancer.socket.setNoDelay(true);
    const header = encodeV2(
      { source: client('203.0.113.50', 1234), destination: destination(server) },
      Buffer.from([0x04, 0x00, 0x02, 0xab, 0xcd]), // a NOOP TLV, skipped
    );
    const request = Buffer.from(
      JSON.stringify({ id: 1, cmd: 'nick', args: { nick: 'trickle' } }) + '\n',
    );
    const bytes = Buffer.concat([header, request]);
    // Cut inside the signature, the fixed part, the addresses, the TLV, and the request.
    const cuts = [0, 5, 13, 15, 20, 30, header.length - 1, header.length + 4, bytes.length];
    for (let i = 1; i < cuts.length; i++) {
      balancer.write(bytes.subarray(cuts[i - 1], cuts[i]));
      await new Promise((resolve) => setTimeout(resolve, 30));
      // Greeted only once the whole header is in.
      if (cuts[i]! < header.length) expect(balancer.frames).toEqual([]);
    }
    await balancer.until(() => balancer.replyTo(1) !== undefined);
    expect(balancer.frames[0]).toMatchObject({ ev: 'hello' });
    expect(balancer.replyTo(1)).toMatchObject({ ok: true, data: { nick: 'trickle' } });
    const admin = await loginAdmin(server);
    await expect(admin.request('ban', { nick: 'trickle', address: true })).resolves.toMatchObject({
      address: '203.0.113.50',
    });
  });

  it('closes a balancer connection whose header never finishes, at the registration deadline', async () => {
    const server = await start({ set: { registrationTimeoutSeconds: 1 } });
    const stuck = await raw(server, BALANCER);
    stuck.write('PROXY TCP4 203.0.113.7');
    await stuck.closed(5000);
    expect(stuck.frames).toEqual([]);
  });
});

describe('PROXY protocol before TLS', () => {
  async function tlsServer(): Promise<TestServer> {
    const made = await makeSelfSignedCertificate({ hosts: ['127.0.0.1'], days: 1 });
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(certFile, made.cert);
    writeFileSync(keyFile, made.key);
    return start({ tls: { certFile, keyFile } });
  }

  it('reads the header, then does the handshake, then greets the relayed client', async () => {
    const server = await tlsServer();
    const port = server.server.address.port;
    const secure = await viaBalancer(
      server,
      encodeV2({ source: client('203.0.113.70'), destination: client('127.0.0.1', port) }),
      { port, tls: true },
    );
    await secure.login('secure');
    const v1 = await viaBalancer(
      server,
      encodeV1(client('203.0.113.71'), client('127.0.0.1', port)),
      { port, tls: true },
    );
    await v1.login('secure1');
    const admin = await loginAdmin(server); // over the loopback listener
    await expect(admin.request('ban', { nick: 'secure', address: true })).resolves.toMatchObject({
      address: '203.0.113.70',
    });
    expect(await secure.closed()).toMatchObject({ code: 'banned' });
    // A plain TLS client that is not a balancer still connects as before.
    const direct = await ChatClient.connect({
      host: '127.0.0.1',
      port,
      tls: { rejectUnauthorized: false },
    });
    clients.push(direct);
    await expect(direct.login('direct')).resolves.toMatchObject({ nick: 'direct' });
  });

  it('cuts an untrusted header and a trusted balancer without one, before any handshake', async () => {
    const server = await tlsServer();
    const port = server.server.address.port;
    const untrusted = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    untrusted.on('error', () => undefined);
    const received: Buffer[] = [];
    untrusted.on('data', (chunk: Buffer) => received.push(chunk));
    untrusted.write(encodeV1(client('203.0.113.7'), client('127.0.0.1', port)));
    await new Promise((resolve) => untrusted.on('close', resolve));
    expect(Buffer.concat(received).length).toBe(0);
    // A balancer that goes straight to TLS has not said whom it relays: cut.
    await expect(
      ChatClient.connect({
        host: '127.0.0.1',
        port,
        localAddress: BALANCER,
        tls: { rejectUnauthorized: false },
        timeoutMs: 5000,
      }),
    ).rejects.toBeInstanceOf(ConnectionClosedError);
    const lines = await logLinesWhen(server, (all) => refusals(all).length >= 2);
    expect(refusals(lines).map((line) => line.address)).toEqual(['127.0.0.2', BALANCER]);
  });
});
