import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  it('says when it listens on every interface, how to keep it local, and a hint that works as typed', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    // A PATH without a global `confab`: the hint must then go through npx.
    const everywhere = runCli(['serve', '0', '--host', '0.0.0.0', '--data', dataDir], {
      CONFAB_ADMIN_PASSWORD: '',
      PATH: path.dirname(process.execPath),
    });
    running.push(everywhere);
    await everywhere.waitForOutput('Connect with');
    const out = everywhere.stdout();
    expect(out).toContain('listening (TCP) on every network interface:');
    expect(out).toMatch(/^ {2}127\.0\.0\.1:\d+$/m);
    expect(out).toContain('to keep it to this one: --host 127.0.0.1');
    expect(out).toMatch(/Connect with: npx confab connect 127\.0\.0\.1 \d+ --nick NAME/);
    everywhere.child.kill('SIGKILL');
    await everywhere.exit();

    // With a `confab` on the PATH (installed globally), the hint names it bare.
    const bin = mkdtempSync(path.join(tmpdir(), 'confab-bin-'));
    dirs.push(bin);
    writeFileSync(path.join(bin, 'confab'), '#!/bin/sh\n', { mode: 0o755 });
    const local = runCli(['serve', '0', '--host', '127.0.0.1', '--data', dataDir], {
      CONFAB_ADMIN_PASSWORD: '',
      PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}`,
    });
    running.push(local);
    await local.waitForOutput('Connect with');
    expect(local.stdout()).toMatch(/listening \(TCP\) on:\n {2}127\.0\.0\.1:\d+\n/);
    expect(local.stdout()).not.toContain('every network interface');
    expect(local.stdout()).toMatch(/Connect with: confab connect 127\.0\.0\.1 \d+/);
  });

  it('stops with a message naming the key when a parameter is bad', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const run = runCli(['serve', '--set', 'maxUsers=none', '--data', dataDir]);
    expect(await run.exit()).toBe(2);
    expect(run.stderr()).toMatch(/maxUsers/);
  });
});
