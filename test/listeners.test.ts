import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../src/cli/admin/make-cert.js';
import { ChatClient } from '../src/client/client.js';
import { ConfigError, ServerConfig } from '../src/config/config.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { makeDataDir, TEST_ADMIN_PASSWORD } from './helpers/server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'confab-listeners-'));
const servers: RunningServer[] = [];
const runs: CliRun[] = [];
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const run of runs.splice(0)) run.child.kill('SIGKILL');
  for (const server of servers.splice(0)) await server.stop(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate in two PEM files, with its SHA-256 fingerprint. */
async function certificate(name: string) {
  const made = await makeSelfSignedCertificate({ hosts: ['127.0.0.1', name], days: 1 });
  const cert = path.join(dir, `${name}-cert.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  writeFileSync(cert, made.cert);
  writeFileSync(key, made.key);
  return { cert, key, fingerprint: new X509Certificate(made.cert).fingerprint256 };
}

/** The fingerprint of the certificate a TLS listener presents. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(
        createHash('sha256')
          .update(der)
          .digest('hex')
          .toUpperCase()
          .replace(/(..)(?!$)/g, '$1:'),
      );
    });
    socket.on('error', reject);
  });
}

/** Registers on an IRC port and resolves with the welcome line. */
function ircWelcome(socket: net.Socket | tls.TLSSocket, nick: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const welcome = received.split('\r\n').find((line) => / 001 /.test(line));
      if (welcome) {
        socket.destroy();
        resolve(welcome);
      }
    });
    socket.on('error', reject);
    socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  });
}

describe('listener settings', () => {
  const load = (flags: Parameters<typeof ServerConfig.load>[0]) =>
    ServerConfig.load({ env: {}, ...flags });

  it('plans each listener with its own host, port and certificate', async () => {
    const server = await certificate('server');
    const web = await certificate('web');
    const config = load({
      flags: {
        host: '127.0.0.1',
        port: 7000,
        tlsCert: server.cert,
        tlsKey: server.key,
        tlsPort: 7001,
        tlsHost: '0.0.0.0',
        ircPort: 6667,
        ircTlsPort: 6697,
        ircHost: '127.0.0.2',
        webPort: 8443,
        webCert: web.cert,
        webKey: web.key,
      },
    });
    expect(
      config.server.listeners.map(({ name, host, port, certificate: files }) => ({
        name,
        host,
        port,
        cert: files?.cert,
      })),
    ).toEqual([
      { name: 'native', host: '127.0.0.1', port: 7000, cert: undefined },
      { name: 'native-tls', host: '0.0.0.0', port: 7001, cert: server.cert },
      { name: 'irc', host: '127.0.0.2', port: 6667, cert: undefined },
      { name: 'irc-tls', host: '127.0.0.2', port: 6697, cert: server.cert },
      { name: 'web', host: '127.0.0.1', port: 8443, cert: web.cert },
    ]);
    // Without --tls-port a certificate makes the main port TLS, as it always did.
    const legacy = load({ flags: { port: 7000, tlsCert: server.cert, tlsKey: server.key } });
    expect(legacy.server.listeners.map((each) => [each.name, each.port])).toEqual([
      ['native-tls', 7000],
      ['web', 7780],
    ]);
  });

  it('reads the same settings from the environment and the config file', async () => {
    const server = await certificate('server');
    const irc = await certificate('irc');
    const fromEnv = load({
      env: {
        CONFAB_TLS_CERT: server.cert,
        CONFAB_TLS_KEY: server.key,
        CONFAB_TLS_PORT: '7101',
        CONFAB_TLS_HOST: '127.0.0.1',
        CONFAB_IRC_TLS_PORT: '7102',
        CONFAB_IRC_CERT: irc.cert,
        CONFAB_IRC_KEY: irc.key,
        CONFAB_WEB_HOST: '127.0.0.3',
        CONFAB_WEB_PORT: '7103',
      },
    });
    expect(fromEnv.server.listeners.map((each) => [each.name, each.host, each.port])).toEqual([
      ['native', '0.0.0.0', 7777],
      ['native-tls', '127.0.0.1', 7101],
      ['irc-tls', '0.0.0.0', 7102],
      ['web', '127.0.0.3', 7103],
    ]);
    expect(fromEnv.server.listeners[2]!.certificate?.cert).toBe(irc.cert);
    const file = path.join(dir, 'listeners.yaml');
    writeFileSync(
      file,
      [
        'host: 127.0.0.1',
        'tls:',
        `  cert: ${server.cert}`,
        `  key: ${server.key}`,
        '  port: 7201',
        '  host: 127.0.0.4',
        'irc:',
        '  port: 7202',
        '  host: 127.0.0.5',
        'web:',
        '  port: 0',
      ].join('\n'),
    );
    const fromFile = load({ flags: { config: file } });
    expect(fromFile.server.listeners.map((each) => [each.name, each.host, each.port])).toEqual([
      ['native', '127.0.0.1', 7777],
      ['native-tls', '127.0.0.4', 7201],
      ['irc', '127.0.0.5', 7202],
    ]);
  });

  it('refuses clashing ports, half a certificate, and TLS without one, naming the key', async () => {
    const server = await certificate('server');
    const refusal = (flags: Record<string, unknown>) => {
      try {
        load({ flags });
      } catch (error) {
        if (error instanceof ConfigError) return { key: error.key, message: error.message };
        throw error;
      }
      throw new Error(`accepted ${JSON.stringify(flags)}`);
    };
    expect(refusal({ port: 7000, ircPort: 7000 })).toEqual({
      key: 'irc.port',
      message: 'irc.port and port are both 7000 (on 0.0.0.0 and 0.0.0.0)',
    });
    expect(refusal({ port: 7000, webPort: 7000 }).key).toBe('web.port');
    // Different addresses may share a port, unless one of them is every address.
    expect(() =>
      load({ flags: { host: '127.0.0.1', port: 7000, ircHost: '127.0.0.2', ircPort: 7000 } }),
    ).not.toThrow();
    expect(refusal({ host: '127.0.0.1', port: 7000, ircPort: 7000 }).key).toBe('irc.port');
    expect(refusal({ tlsPort: 7001 }).key).toBe('tls.port');
    expect(refusal({ webCert: server.cert }).key).toBe('web.cert');
    expect(refusal({ ircKey: server.key }).key).toBe('irc.cert');
    expect(
      refusal({ tlsCert: server.cert, tlsKey: server.key, tlsPort: 7002, port: 7002 }).key,
    ).toBe('tls.port');
  });
});

describe('a server with several listeners', () => {
  it('serves plain TCP, TLS, IRC over TLS and HTTPS, each with its certificate', async () => {
    const server = await certificate('server');
    const irc = await certificate('irc');
    const web = await certificate('web');
    const dataDir = makeDataDir();
    const config = ServerConfig.load({
      flags: {
        host: '127.0.0.1',
        port: 0,
        data: dataDir,
        tlsCert: server.cert,
        tlsKey: server.key,
        tlsPort: 0,
        ircTlsPort: 0,
        ircCert: irc.cert,
        ircKey: irc.key,
        webCert: web.cert,
        webKey: web.key,
      },
      env: {},
    });
    const running = await startServer(config, { adminPassword: TEST_ADMIN_PASSWORD, webPort: 0 });
    servers.push(running);
    expect(running.listening.map((each) => each.name)).toEqual([
      'native',
      'native-tls',
      'irc-tls',
      'web',
    ]);
    const plain = await ChatClient.connect({ host: '127.0.0.1', port: running.address.port });
    clients.push(plain);
    await expect(plain.login('plain')).resolves.toMatchObject({ nick: 'plain' });
    const tlsPort = running.tlsAddress!.port;
    expect(tlsPort).not.toBe(running.address.port);
    const secure = await ChatClient.connect({
      host: '127.0.0.1',
      port: tlsPort,
      tls: { rejectUnauthorized: false },
    });
    clients.push(secure);
    await expect(secure.login('secure')).resolves.toMatchObject({ nick: 'secure' });
    expect(await presented(tlsPort)).toBe(server.fingerprint);
    expect(await presented(running.ircTlsAddress!.port)).toBe(irc.fingerprint);
    expect(await presented(running.webAddress!.port)).toBe(web.fingerprint);
    const welcome = await ircWelcome(
      tls.connect({
        host: '127.0.0.1',
        port: running.ircTlsAddress!.port,
        rejectUnauthorized: false,
      }),
      'ircer',
    );
    expect(welcome).toContain(' 001 ircer ');
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('confab serve', () => {
  it('prints every listener with the address it got, and each answers there', async () => {
    const server = await certificate('server');
    const dataDir = makeDataDir();
    const run = runCli(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data',
        dataDir,
        '--tls-cert',
        server.cert,
        '--tls-key',
        server.key,
        '--tls-port',
        '0',
        '--irc-port',
        '0',
        '--irc-host',
        '127.0.0.1',
      ],
      { CONFAB_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD },
    );
    runs.push(run);
    await run.waitForOutput('Connect with', 20_000);
    const out = run.stdout();
    const plainPort = Number(/listening \(TCP\)[^\n]*\n {2}127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const tlsPort = Number(/and TLS on: 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const ircPort = Number(/IRC: 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    for (const port of [plainPort, tlsPort, ircPort]) expect(port).toBeGreaterThan(0);
    expect(new Set([plainPort, tlsPort, ircPort]).size).toBe(3);
    expect(out).toMatch(new RegExp(`Connect with: .*connect 127\\.0\\.0\\.1 ${plainPort} --nick`));
    const plain = await ChatClient.connect({ host: '127.0.0.1', port: plainPort });
    clients.push(plain);
    await expect(plain.login('admin', TEST_ADMIN_PASSWORD)).resolves.toMatchObject({
      role: 'admin',
    });
    expect(await presented(tlsPort)).toBe(server.fingerprint);
    expect(await ircWelcome(net.connect({ host: '127.0.0.1', port: ircPort }), 'cli')).toContain(
      ' 001 cli ',
    );
    run.child.kill('SIGKILL');
    await run.exit();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
