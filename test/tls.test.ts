import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeSelfSignedCertificate, runMakeCert } from '../src/cli/admin/make-cert.js';
import { ChatClient, ConnectionClosedError } from '../src/client/client.js';
import { CertificateChangedError, KNOWN_HOSTS_FILE, tlsTrust } from '../src/client/tls-trust.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let dir: string;
let server: TestServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'confab-tls-'));
});
afterEach(async () => {
  await server?.dispose();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function certificateFiles(name: string) {
  const made = await makeSelfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], days: 2 });
  const certFile = path.join(dir, `${name}-cert.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  writeFileSync(certFile, made.cert);
  writeFileSync(keyFile, made.key);
  return { certFile, keyFile, fingerprint256: made.fingerprint256 };
}

function connectTls(port: number, trust: ReturnType<typeof tlsTrust>) {
  return ChatClient.connect({
    host: '127.0.0.1',
    port,
    tls: trust.tls,
    ...(trust.verifyTls && { verifyTls: trust.verifyTls }),
  });
}

describe('TLS', () => {
  it('serves TLS with a certificate made here, verified against it as the CA', async () => {
    const files = await certificateFiles('a');
    server = await startTestServer({ tls: files });
    const trust = tlsTrust({ host: '127.0.0.1', port: server.port, caFile: files.certFile });
    const alice = await connectTls(server.port, trust);
    await alice.login('alice');
    // Plain TCP stays available on loopback, by flag; both reach the same server.
    const bob = await server.connect('bob');
    const got = bob.waitFor((e) => e.ev === 'message');
    await alice.request('say', { text: 'over TLS' });
    expect(await got).toMatchObject({ from: 'alice', text: 'over TLS' });
    await alice.quit();
  });

  it('refuses a certificate that the given CA did not sign', async () => {
    const served = await certificateFiles('served');
    const other = await certificateFiles('other');
    server = await startTestServer({ tls: served });
    const trust = tlsTrust({ host: '127.0.0.1', port: server.port, caFile: other.certFile });
    await expect(connectTls(server.port, trust)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('pins a self-signed certificate on first use and refuses a changed one', async () => {
    const first = await certificateFiles('first');
    server = await startTestServer({ tls: first });
    const port = server.port;
    const configDir = path.join(dir, 'config');
    const notice = vi.fn();
    const trust = () => tlsTrust({ host: '127.0.0.1', port, configDir, notice });

    const client = await connectTls(port, trust());
    expect(notice).toHaveBeenCalledTimes(1);
    expect(String(notice.mock.calls[0]![0])).toContain(first.fingerprint256);
    const pins = JSON.parse(readFileSync(path.join(configDir, KNOWN_HOSTS_FILE), 'utf8')) as {
      hosts: Record<string, { fingerprint256: string }>;
    };
    expect(pins.hosts[`127.0.0.1:${port}`]?.fingerprint256).toBe(first.fingerprint256);
    client.destroy();
    // Same certificate again: accepted silently.
    (await connectTls(port, trust())).destroy();
    expect(notice).toHaveBeenCalledTimes(1);

    // Same address, new certificate: refused, with a warning naming both fingerprints.
    await server.stop();
    const second = await certificateFiles('second');
    server = await startTestServer({ tls: second, port });
    const error = await connectTls(port, trust()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CertificateChangedError);
    expect((error as Error).message).toContain(first.fingerprint256);
    expect((error as Error).message).toContain(second.fingerprint256);
    expect((error as Error).message).toContain('HAS CHANGED');
  });

  it('confab admin make-cert writes a certificate and a private key only its owner reads', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = path.join(dir, 'made');
    expect(await runMakeCert({ dir: out, host: ['chat.example'], days: '30' })).toBe(0);
    log.mockRestore();
    const key = path.join(out, 'tls-key.pem');
    expect(readFileSync(path.join(out, 'tls-cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(existsSync(key)).toBe(true);
    if (process.platform !== 'win32') expect(statSync(key).mode & 0o777).toBe(0o600);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await runMakeCert({ dir: out, host: [], days: '30' })).toBe(1);
    error.mockRestore();
  });
});
