import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ServerConfig } from '../src/config/config.js';
import { environmentName, parseParameter } from '../src/config/parameters.js';

function configFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'confab-config-'));
  const file = path.join(dir, 'confab.yaml');
  writeFileSync(file, text);
  return file;
}

describe('ServerConfig', () => {
  it('starts from the documented defaults', () => {
    const config = ServerConfig.load({ env: {}, cwd: '/srv' });
    expect(config.server).toMatchObject({
      host: '0.0.0.0',
      port: 7777,
      dataDir: path.resolve('/srv/confab-data'),
    });
    expect(config.params.maxUsers).toBe(1000);
    expect(config.params['message.maxLength']).toBe(280);
    expect(config.params['frame.maxBytes']).toBe(64 * 1024);
    expect(config.sourceOf('maxUsers')).toBe('default');
  });

  it('layers file < environment < command line, and says where each value came from', () => {
    const file = configFile(
      'maxUsers: 10\nlockout:\n  attempts: 5\n  seconds: 30\nsendqBytes: 2MiB\n',
    );
    const config = ServerConfig.load({
      flags: { config: file, set: ['lockout.seconds=9'] },
      env: { CONFAB_LOCKOUT_ATTEMPTS: '7' },
    });
    expect(config.params.maxUsers).toBe(10);
    expect(config.sourceOf('maxUsers')).toBe('file');
    expect(config.params['lockout.attempts']).toBe(7);
    expect(config.sourceOf('lockout.attempts')).toBe('environment');
    expect(config.params['lockout.seconds']).toBe(9);
    expect(config.sourceOf('lockout.seconds')).toBe('command line');
    expect(config.params.sendqBytes).toBe(2 * 1024 * 1024);
  });

  it('puts live changes above the file and below the environment', () => {
    const file = configFile('maxUsers: 10\n');
    const config = ServerConfig.load({
      flags: { config: file },
      env: { CONFAB_IDLE_TIMEOUT_SECONDS: '5' },
    });
    expect(config.setLive('maxUsers', '20')).toBe(20);
    expect(config.sourceOf('maxUsers')).toBe('live');
    expect(config.setLive('idleTimeoutSeconds', 60)).toBe(5);
    config.resetLive('maxUsers');
    expect(config.params.maxUsers).toBe(10);
  });

  it('reads the web settings: port (0 off), allowed origins normalised, trusted proxies', () => {
    expect(ServerConfig.load({ env: {} }).server.webPort).toBe(7780);
    const file = configFile(
      'web:\n  port: 8080\n  allowedOrigins:\n    - HTTPS://Chat.Example:443/\n' +
        'net:\n  trustedProxies: [10.0.0.0/8, "::1"]\n',
    );
    const config = ServerConfig.load({ flags: { config: file }, env: {} });
    expect(config.server.webPort).toBe(8080);
    expect(config.server.allowedOrigins).toEqual(['https://chat.example']);
    expect(config.server.trustedProxies).toEqual(['10.0.0.0/8', '::1']);
    expect(ServerConfig.load({ flags: { webPort: 0 }, env: {} }).server.webPort).toBe(0);
    const bad = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as ConfigError).key;
      }
      return undefined;
    };
    expect(bad(() => ServerConfig.load({ env: { CONFAB_WEB_PORT: 'web' } }))).toBe('web.port');
    expect(bad(() => ServerConfig.load({ flags: { port: 7000, webPort: 7000 }, env: {} }))).toBe(
      'web.port',
    );
    expect(
      bad(() =>
        ServerConfig.load({ env: { CONFAB_WEB_ALLOWED_ORIGINS: 'https://x.example/app' } }),
      ),
    ).toBe('web.allowedOrigins');
    expect(bad(() => ServerConfig.load({ env: { CONFAB_TRUSTED_PROXIES: '10.0.0.0/33' } }))).toBe(
      'net.trustedProxies',
    );
  });

  it('refuses bad values, naming the key', () => {
    const attempt = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(attempt(() => ServerConfig.load({ env: { CONFAB_MAX_USERS: 'lots' } })).key).toBe(
      'maxUsers',
    );
    expect(
      attempt(() => ServerConfig.load({ flags: { set: ['message.maxLength=0'] }, env: {} }))
        .message,
    ).toMatch(/message\.maxLength must be at least 1/);
    expect(attempt(() => ServerConfig.load({ flags: { set: ['nope=1'] }, env: {} })).key).toBe(
      'nope',
    );
    expect(
      attempt(() => ServerConfig.load({ flags: { config: configFile('maxUser: 3\n') }, env: {} }))
        .key,
    ).toBe('maxUser');
    expect(attempt(() => ServerConfig.load({ flags: { port: 70000 }, env: {} })).key).toBe('port');
    expect(attempt(() => ServerConfig.load({ flags: { tlsCert: 'a.pem' }, env: {} })).key).toBe(
      'tls',
    );
  });

  it('names environment variables after the keys', () => {
    expect(environmentName('maxConnectionsPerIp')).toBe('CONFAB_MAX_CONNECTIONS_PER_IP');
    expect(environmentName('files.maxBytes')).toBe('CONFAB_FILES_MAX_BYTES');
    expect(parseParameter('files.maxBytes', '1.5')).toEqual({
      ok: false,
      message: 'files.maxBytes must be a whole number',
    });
    expect(parseParameter('files.maxBytes', '1.5KiB')).toEqual({ ok: true, value: 1536 });
    expect(parseParameter('maxUsers', '3KiB').ok).toBe(false);
  });
});

describe('the example config file', () => {
  it('loads and gives the defaults', () => {
    const file = new URL('../confab.example.yaml', import.meta.url).pathname;
    const config = ServerConfig.load({ flags: { config: file }, env: {} });
    expect(config.params.maxUsers).toBe(1000);
    expect(config.params['files.maxBytes']).toBe(100 * 1024 * 1024);
    expect(config.server.port).toBe(7777);
  });
});
