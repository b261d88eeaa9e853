import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/client.js';
import { runCli, type CliRun } from './helpers/cli.js';

const ADMIN_PASSWORD = 'a long admin passphrase';
const dirs: string[] = [];
const running: CliRun[] = [];
afterEach(() => {
  for (const run of running.splice(0)) run.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'confab-cli-'));
  dirs.push(dir);
  return dir;
}

async function serve(args: string[], env: NodeJS.ProcessEnv) {
  const run = runCli(['serve', '0', '--host', '127.0.0.1', ...args], env);
  running.push(run);
  await run.waitForOutput('Connect with');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(run.stdout())![1]);
  return { run, port };
}

describe('confab serve and connect with accounts and TLS', () => {
  it('creates the admin account from CONFAB_ADMIN_PASSWORD without printing or logging it', async () => {
    const dataDir = tempDir();
    const { run, port } = await serve(['--data', dataDir], {
      CONFAB_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    expect(run.stdout()).not.toContain('only this once');
    const admin = await ChatClient.connect({ host: '127.0.0.1', port });
    await expect(admin.login('admin', ADMIN_PASSWORD)).resolves.toMatchObject({ role: 'admin' });
    await admin.quit();
    run.child.kill('SIGINT');
    await run.exit();
    const log = readFileSync(path.join(dataDir, 'logs', 'server.log'), 'utf8');
    expect(log).toContain('"event":"login"');
    expect(run.stdout() + run.stderr() + log).not.toContain(ADMIN_PASSWORD);
  });

  it('makes a certificate, serves TLS with it, and connects with --tls (pinned on first use)', async () => {
    const dataDir = tempDir();
    const configDir = tempDir();
    const made = runCli(['admin', 'make-cert', '--dir', dataDir, '--host', '127.0.0.1']);
    expect(await made.exit()).toBe(0);
    const fingerprint = /SHA-256 fingerprint: (\S+)/.exec(made.stdout())![1]!;
    const { port } = await serve(
      [
        '--data',
        dataDir,
        '--tls-cert',
        path.join(dataDir, 'tls-cert.pem'),
        '--tls-key',
        path.join(dataDir, 'tls-key.pem'),
      ],
      { CONFAB_ADMIN_PASSWORD: ADMIN_PASSWORD },
    );
    const client = runCli(['connect', `127.0.0.1:${port}`, '--tls', '--nick', 'tess'], {
      CONFAB_CONFIG_DIR: configDir,
    });
    client.child.stdin.end('/who\n');
    expect(await client.exit()).toBe(0);
    expect(client.stdout()).toContain('You are tess (guest)');
    expect(client.stderr()).toContain(`Trusting it on first use: SHA256 ${fingerprint}`);
    const pins = readFileSync(path.join(configDir, 'known_hosts.json'), 'utf8');
    expect(pins).toContain(fingerprint);
  });
});
