import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  makeDataDir,
  startTestServer,
  TEST_ADMIN_PASSWORD,
  type TestServer,
} from '../helpers/server.js';
import { errorOf } from './helpers.js';
import { runCli, runCliOnPty, type Run } from './processes.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
const running: Run[] = [];
afterEach(async () => {
  for (const run of running.splice(0)) run.child.kill('SIGKILL');
  for (const server of servers.splice(0)) await server.dispose();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = makeDataDir();
  dirs.push(dir);
  return dir;
}

async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const run = runCli(args);
  running.push(run);
  const code = await run.exit();
  return { code, output: run.output() };
}

describe('confab admin set-password and users', () => {
  it('creates an admin account from a password file, then resets its password', async () => {
    const dir = dataDir();
    const secret = path.join(dir, 'pw.txt');
    writeFileSync(secret, 'first-password-1\n');
    let result = await cli([
      'admin',
      'set-password',
      'boss',
      '--data',
      dir,
      '--password-file',
      secret,
    ]);
    expect(result).toMatchObject({
      code: 0,
      output: expect.stringMatching(/Created admin account boss/),
    });

    let server = await startTestServer({ dataDir: dir });
    servers.push(server);
    const boss = await server.connect('boss', 'first-password-1');
    await expect(boss.request('users')).resolves.toBeDefined();
    await server.stop();
    servers.pop();

    writeFileSync(secret, 'second-password-2\n');
    result = await cli(['admin', 'set-password', 'boss', '--data', dir, '--password-file', secret]);
    expect(result.output).toMatch(/Password of boss \(admin\) reset/);

    server = await startTestServer({ dataDir: dir });
    servers.push(server);
    const old = await server.open();
    expect((await errorOf(old.login('boss', 'first-password-1'))).code).toBe('login_failed');
    await expect(old.login('boss', 'second-password-2')).resolves.toMatchObject({ role: 'admin' });
    await server.stop();

    result = await cli(['admin', 'users', '--data', dir]);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/boss\s+admin\s+created/);
    expect(result.output).not.toMatch(/argon2|password/i);
  });

  it('asks for the password on a terminal without echoing it', async () => {
    const dir = dataDir();
    const run = runCliOnPty(['admin', 'set-password', 'root', '--data', dir]);
    running.push(run);
    await run.waitFor(/New password: /);
    run.write('typed-secret-123\r');
    await run.waitFor(/New password again: /);
    run.write('typed-secret-123\r');
    expect(await run.exit()).toBe(0);
    expect(run.output()).toMatch(/Created admin account root/);
    expect(run.output()).not.toContain('typed-secret-123');
  });

  it('refuses a weak password and a bad name clearly', async () => {
    const dir = dataDir();
    const secret = path.join(dir, 'pw.txt');
    writeFileSync(secret, 'short\n');
    let result = await cli([
      'admin',
      'set-password',
      'boss',
      '--data',
      dir,
      '--password-file',
      secret,
    ]);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/at least/);
    result = await cli([
      'admin',
      'set-password',
      'no spaces',
      '--data',
      dir,
      '--password-file',
      secret,
    ]);
    expect(result.code).toBe(2);
  });
});

describe('confab admin backup', () => {
  it('copies the database under load with every acknowledged message, and a server starts from it', async () => {
    const server = await startTestServer();
    servers.push(server);
    const senders: ChatClient[] = [];
    for (const nick of ['ann', 'ben', 'cat']) senders.push(await server.connect(nick));
    const acknowledged = new Set<number>();
    let stop = false;
    const loops = senders.map(async (client, index) => {
      for (let n = 0; n < 2000 && !stop; n++) {
        const { mid } = await client.request<{ mid: number }>('say', { text: `m${index}-${n}` });
        acknowledged.add(mid);
      }
    });
    while (acknowledged.size < 150) await new Promise((resolve) => setTimeout(resolve, 10));

    const out = path.join(dataDir(), 'copy');
    const before = new Set(acknowledged);
    const run = runCli(['admin', 'backup', out, '--data', server.dataDir]);
    running.push(run);
    expect(await run.exit()).toBe(0);
    const during = acknowledged.size;
    stop = true;
    await Promise.all(loops);
    expect(run.output()).toMatch(/Backed up \d+ pages/);
    // Writes went on while the copy was taken.
    expect(during).toBeGreaterThan(before.size);
    expect(existsSync(path.join(out, 'confab.db-wal'))).toBe(false);

    const copy = SqliteStore.open(out);
    let stored: Set<number>;
    try {
      stored = new Set((await copy.messages.recentInRoom('lobby', 1_000_000)).map((m) => m.id));
    } finally {
      await copy.close();
    }
    const missing = [...before].filter((mid) => !stored.has(mid));
    expect(missing).toEqual([]);

    const restored = await startTestServer({ dataDir: out });
    servers.push(restored);
    await expect(restored.connect('admin', TEST_ADMIN_PASSWORD)).resolves.toBeDefined();

    const again = await cli(['admin', 'backup', out, '--data', server.dataDir]);
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/not empty/);
  });
});
