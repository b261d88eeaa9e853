import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';
import { errorOf, loginAdmin } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

async function runToEnd(args: readonly string[]) {
  const run = runCli(args);
  const status = await run.exit();
  return { status, stdout: run.stdout() };
}

function auditLines(dataDir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(dataDir, 'logs', 'audit.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logs/audit.log', () => {
  it('holds every admin action and security event as one JSON line, never a password', async () => {
    const server = await startTestServer({ set: { 'lockout.attempts': 2 } });
    servers.push(server);
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    await bob.request('register', { password: 'bobs-secret-passphrase-1' });
    await bob.request('passwd', {
      oldPassword: 'bobs-secret-passphrase-1',
      newPassword: 'bobs-newer-passphrase-2',
    });
    // Two wrong passwords from one address lock that pair out (lockout.attempts = 2).
    for (let i = 0; i < 2; i++) {
      const guess = await server.open();
      await errorOf(guess.login('bob', `wrong-guess-${i}`));
    }
    // bob logs in again elsewhere and takes his session over.
    const again = await server.open({ localAddress: '127.0.0.2' });
    await again.login('bob', 'bobs-newer-passphrase-2', { takeover: true });
    await admin.request('warn', { nick: 'bob', reason: 'spamming links' });
    await admin.request('config', { key: 'maxUsers', value: '50' });
    await admin.request('kick', { nick: 'bob', reason: 'enough' });
    await server.stop();

    const lines = auditLines(server.dataDir);
    const summary = lines.map((line) => `${String(line.kind)}:${String(line.action)}`);
    expect(summary).toEqual([
      'security:register',
      'security:passwd',
      'security:login_failed',
      'security:locked_out',
      'security:takeover',
      'admin:warn',
      'admin:config',
      'admin:kick',
    ]);
    expect(lines[2]).toMatchObject({ target: 'bob', address: '127.0.0.1' });
    expect(lines[4]).toMatchObject({ target: 'bob', address: '127.0.0.2' });
    expect(lines[7]).toMatchObject({ actor: 'admin', target: 'bob', details: 'enough' });
    for (const line of lines) expect(Date.parse(String(line.time))).toBeGreaterThan(0);
    const text = readFileSync(path.join(server.dataDir, 'logs', 'audit.log'), 'utf8');
    for (const secret of [
      'bobs-secret-passphrase-1',
      'bobs-newer-passphrase-2',
      'wrong-guess',
      TEST_ADMIN_PASSWORD,
    ])
      expect(text).not.toContain(secret);
  });

  it('is read by `confab admin audit`, newest last, in local time, filtered by kind', async () => {
    const server = await startTestServer();
    servers.push(server);
    const admin = await loginAdmin(server);
    await server.connect('bob');
    await admin.request('suspend', { nick: 'bob' });
    await errorOf((await server.open()).login('admin', 'not-the-password'));
    await server.stop();

    const all = await runToEnd(['admin', 'audit', '--data', server.dataDir]);
    expect(all.status).toBe(0);
    const rows = all.stdout.trim().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}admin +suspend bob$/);
    expect(rows[1]).toMatch(/\(security\) +login_failed admin from 127\.0\.0\.1$/);

    const security = await runToEnd(['admin', 'audit', '--security', '--data', server.dataDir]);
    expect(security.stdout.trim().split('\n')).toHaveLength(1);
    const json = await runToEnd(['admin', 'audit', '1', '--json', '--data', server.dataDir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'security', action: 'login_failed' });
  });
});
