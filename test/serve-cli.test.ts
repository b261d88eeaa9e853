import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/client.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { makeDataDir } from './helpers/server.js';

const dirs: string[] = [];
const running: CliRun[] = [];
afterEach(() => {
  for (const run of running.splice(0)) run.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const run = runCli(
    ['serve', '0', '--host', '127.0.0.1', '--data', dataDir, '--set', 'shutdown.noticeSeconds=1'],
    {
      CONFAB_ADMIN_PASSWORD: '',
      ...env,
    },
  );
  running.push(run);
  await run.waitForOutput(/127\.0\.0\.1:(\d+)/);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(run.stdout())![1]);
  return { run, port };
}

describe('confab serve', () => {
  it('creates the admin account once with a generated password, and stops cleanly on SIGTERM', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const first = await serve(dataDir);
    await first.run.waitForOutput('shown only this once');
    const password = /only this once:\n\s+(\S+)/.exec(first.run.stdout())![1]!;
    const admin = await ChatClient.connect({ host: '127.0.0.1', port: first.port });
    await expect(admin.login('admin', password)).resolves.toMatchObject({ role: 'admin' });
    const notice = admin.waitFor((e) => e.ev === 'shutdown');
    first.run.child.kill(process.platform === 'win32' ? 'SIGINT' : 'SIGTERM');
    expect(await notice).toMatchObject({ seconds: 1 });
    expect(await first.run.exit()).toBe(0);

    const second = await serve(dataDir);
    await second.run.waitForOutput('Connect with');
    expect(second.run.stdout()).not.toContain('only this once');
    const again = await ChatClient.connect({ host: '127.0.0.1', port: second.port });
    await expect(again.login('admin', password)).resolves.toMatchObject({ role: 'admin' });
    again.destroy();
  });

  it('says at start that the server is still locked and monitored from before the restart', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const env = { CONFAB_ADMIN_PASSWORD: 'serve-cli-admin-password' };
    const first = await serve(dataDir, env);
    await first.run.waitForOutput('Connect with');
    expect(first.run.stdout()).not.toMatch(/locked|Monitoring/);
    const admin = await ChatClient.connect({ host: '127.0.0.1', port: first.port });
    await admin.login('admin', env.CONFAB_ADMIN_PASSWORD);
    await admin.request('lock');
    await admin.request('monitor', { state: 'on' });
    first.run.child.kill(process.platform === 'win32' ? 'SIGINT' : 'SIGTERM');
    expect(await first.run.exit()).toBe(0);
    admin.destroy();

    const second = await serve(dataDir, env);
    await second.run.waitForOutput('Connect with');
    expect(second.run.stdout()).toContain('The server is locked: new logins are refused (/unlock)');
    expect(second.run.stdout()).toContain('Monitoring is on');
    second.run.child.kill('SIGKILL');
  });

  it('stops with a message naming the key when a parameter is bad', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const run = runCli(['serve', '--set', 'maxUsers=none', '--data', dataDir]);
    expect(await run.exit()).toBe(2);
    expect(run.stderr()).toMatch(/maxUsers/);
  });
});
