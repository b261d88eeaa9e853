import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../../src/cli/admin/make-cert.js';
import { ServerConfig, ConfigError } from '../../src/config/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('serves IRC over TLS with the server certificate (--irc-tls-port)', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'confab-irc-tls-'));
  const made = await makeSelfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], days: 2 });
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  writeFileSync(certFile, made.cert);
  writeFileSync(keyFile, made.key);
  server = await startTestServer({ tls: { certFile, keyFile }, ircTlsPort: 0 });
  const port = server.server.ircTlsAddress!.port;
  const socket = tls.connect({ host: '127.0.0.1', port, ca: made.cert, servername: 'localhost' });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.write('NICK tess\r\nUSER tess 0 * :Tess\r\n');
  const deadline = Date.now() + 5000;
  while (!received.includes(' 366 tess #lobby ') && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(received).toContain(':confab 001 tess ');
  expect(received).toContain(' 366 tess #lobby ');
  socket.destroy();
});

it('refuses --irc-tls-port without a certificate', () => {
  expect(() => ServerConfig.load({ flags: { ircTlsPort: 6697 }, env: {} })).toThrow(ConfigError);
  expect(ServerConfig.load({ flags: {}, env: {} }).server.ircPort).toBeUndefined();
  expect(ServerConfig.load({ flags: {}, env: { CONFAB_IRC_PORT: '6667' } }).server.ircPort).toBe(
    6667,
  );
});
