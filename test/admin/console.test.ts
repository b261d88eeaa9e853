import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/client.js';
import { makeDataDir } from '../helpers/server.js';
import { runCli, runCliOnPty, type Run } from './processes.js';

const ADMIN_PASSWORD = 'console-test-password';
const running: Run[] = [];
const dirs: string[] = [];
const clients: ChatClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  for (const run of running.splice(0)) run.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = makeDataDir();
  dirs.push(dir);
  return dir;
}

async function serve(
  runner: typeof runCli,
  dir: string,
  extra: string[] = [],
): Promise<{ run: Run; port: number }> {
  const run = runner(['serve', '0', '--host', '127.0.0.1', '--data', dir, ...extra], {
    CONFAB_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  running.push(run);
  const match = await run.waitFor(/Connect with: (?:npx )?confab connect 127\.0\.0\.1 (\d+)/);
  return { run, port: Number(match[1]) };
}

async function connect(port: number, nick: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port });
  clients.push(client);
  await client.login(nick);
  return client;
}

describe('the server console', () => {
  it('takes admin commands on a terminal, through the same command table', async () => {
    const { run, port } = await serve(runCliOnPty, dataDir());
    await run.waitFor(/Server console/);
    const bob = await connect(port, 'bob');
    const carol = await connect(port, 'carol');
    // What happens is shown above the prompt as it happens, in local time.
    await run.waitFor(/\[\d\d:\d\d:\d\d\] bob logged in from 127\.0\.0\.1 \(guest\)/);
    await run.waitFor(/carol logged in from 127\.0\.0\.1/);
    const intruder = await ChatClient.connect({ host: '127.0.0.1', port });
    clients.push(intruder);
    await expect(intruder.login('admin', 'wrong-password')).rejects.toMatchObject({
      code: 'login_failed',
    });
    await run.waitFor(/failed password for admin from 127\.0\.0\.1/);

    const notice = bob.waitFor((e) => e.ev === 'notice');
    run.write('/announce Hello from the console\r');
    expect(await notice).toMatchObject({ text: 'Hello from the console', from: '(console)' });

    run.write('/who\r');
    await run.waitFor(/bob\s+s\d+\s+active/);

    const carolSees = carol.waitFor((e) => e.ev === 'offline');
    // The seed's `kill NAME`, typed without a slash, with exactly its shape.
    run.write('kill bob\r');
    expect(await bob.closed()).toMatchObject({ code: 'kicked' });
    expect(await carolSees).toMatchObject({ nick: 'bob', reason: 'kicked' });
    await run.waitFor(/Kicked bob/);
    await run.waitFor(/\(console\): kick bob/);
    await run.waitFor(/bob was kicked/);

    run.write('/kick nobody\r');
    await run.waitFor(/error \(unknown_user\): Nobody called "nobody" is online/);

    run.write('/users\r');
    await run.waitFor(/admin\s+admin\s+created/);

    run.write('/config maxUsers 7\r');
    await run.waitFor(/maxUsers\s+7\s+live/);

    run.write('/say hello\r');
    await run.waitFor(/The console takes admin commands/);

    const shutdown = carol.waitFor((e) => e.ev === 'shutdown');
    run.write('/shutdown 1 maintenance\r');
    expect(await shutdown).toMatchObject({ seconds: 1, reason: 'maintenance' });
    expect(await carol.closed()).toMatchObject({ code: 'shutting_down' });
    expect(await run.exit()).toBe(0);
  });

  it('is not started without a terminal: stdin is left alone', async () => {
    const { run, port } = await serve(runCli, dataDir());
    expect(run.output()).not.toMatch(/Server console/);
    const bob = await connect(port, 'bob');
    const events: string[] = [];
    bob.on('event', (event) => events.push(event.ev));
    run.write('/announce should not be read\n/shutdown 0\n');
    // A request to the server after the lines were written: had they been read, their
    // effects would precede this reply on the same single-threaded server.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await bob.request('ping');
    expect(events.filter((ev) => ev !== 'ping')).toEqual([]);
    expect(bob.isClosed).toBe(false);
  });
});

describe('signals', () => {
  it('SIGTERM goes through the same countdown as /shutdown', async () => {
    if (process.platform === 'win32') return;
    const { run, port } = await serve(runCli, dataDir(), ['--set', 'shutdown.noticeSeconds=2']);
    const bob = await connect(port, 'bob');
    const seconds: number[] = [];
    bob.on('event', (event) => {
      if (event.ev === 'shutdown') seconds.push(event.seconds);
    });
    run.child.kill('SIGTERM');
    expect(await bob.closed()).toMatchObject({ code: 'shutting_down' });
    expect(seconds).toEqual([2, 1, 0]);
    expect(await run.exit()).toBe(0);
  });

  it('SIGHUP re-reads the config file; new connections see the new limits', async () => {
    if (process.platform === 'win32') return;
    const dir = dataDir();
    const file = path.join(dir, 'confab.yaml');
    writeFileSync(file, 'message:\n  maxLength: 280\n');
    const { run, port } = await serve(runCli, dir, ['--config', file]);
    writeFileSync(file, 'message:\n  maxLength: 100\n');
    run.child.kill('SIGHUP');
    await run.waitFor(/SIGHUP: re-read .*changed: message\.maxLength/);
    const client = await ChatClient.connect({ host: '127.0.0.1', port });
    clients.push(client);
    expect(client.hello.limits.messageMaxLength).toBe(100);
    // Audited like `/config`, with the file as the actor.
    const auditLines = () =>
      readFileSync(path.join(dir, 'logs', 'audit.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await expect.poll(auditLines, { timeout: 5000 }).toContainEqual(
      expect.objectContaining({
        kind: 'admin',
        action: 'config',
        actor: '(config file)',
        target: 'message.maxLength',
      }),
    );

    writeFileSync(file, 'message:\n  maxLength: none\n');
    run.child.kill('SIGHUP');
    await run.waitFor(/SIGHUP: kept the previous values/);
    const again = await ChatClient.connect({ host: '127.0.0.1', port });
    clients.push(again);
    expect(again.hello.limits.messageMaxLength).toBe(100);
  });
});
