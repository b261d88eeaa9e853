import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../src/cli/admin/make-cert.js';
import { ChatClient, ConnectionClosedError } from '../src/client/client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'confab-tls-limits-'));
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.dispose();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tlsServer(set: Record<string, number>): Promise<TestServer> {
  const made = await makeSelfSignedCertificate({ hosts: ['127.0.0.1'], days: 1 });
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  writeFileSync(certFile, made.cert);
  writeFileSync(keyFile, made.key);
  server = await startTestServer({ tls: { certFile, keyFile }, set });
  return server;
}

async function connectTls(srv: TestServer): Promise<ChatClient> {
  const client = await ChatClient.connect({
    host: '127.0.0.1',
    port: srv.server.address.port,
    // The point here is the limits, not trust: accept the certificate made above.
    tls: { rejectUnauthorized: false },
    timeoutMs: 3000,
  });
  clients.push(client);
  return client;
}

describe('per-address limits over TLS', () => {
  it('count TLS and loopback connections together and refuse before the handshake', async () => {
    const srv = await tlsServer({ maxConnectionsPerIp: 2 });
    const overTls = await connectTls(srv);
    await expect(overTls.login('secure')).resolves.toMatchObject({ nick: 'secure' });
    const plain = await srv.open();
    await expect(plain.login('plain')).resolves.toMatchObject({ nick: 'plain' });
    // A third connection is over the limit on either listener.
    await expect(connectTls(srv)).rejects.toBeInstanceOf(ConnectionClosedError);
    const refused = await srv.open().then(
      () => undefined,
      (e: unknown) => e as ConnectionClosedError,
    );
    expect(refused?.code).toBe('too_many_connections');
    // Closing either kind frees its place: a TLS peer's count goes with its raw socket.
    await overTls.quit();
    let again: ChatClient | undefined;
    for (let attempt = 0; attempt < 50 && !again; attempt++)
      again = await connectTls(srv).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      });
    await expect(again!.login('again')).resolves.toMatchObject({ nick: 'again' });
    await plain.quit();
    let plainAgain: ChatClient | undefined;
    for (let attempt = 0; attempt < 50 && !plainAgain; attempt++)
      plainAgain = await srv.open().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      });
    await expect(plainAgain!.login('plain2')).resolves.toMatchObject({ nick: 'plain2' });
  });

  it('drop a TLS handshake that never finishes at the registration deadline', async () => {
    const srv = await tlsServer({ registrationTimeoutSeconds: 1 });
    const socket = net.connect({ host: '127.0.0.1', port: srv.server.address.port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('open'), 5000));
    expect(await Promise.race([closed.then(() => 'closed'), timeout])).toBe('closed');
    socket.destroy();
  });
});
