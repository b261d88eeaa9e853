import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/client.js';
import {
  PASSWORD,
  collect,
  connectRecording,
  makeAccount,
  ofKind,
  until,
} from '../helpers/events.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import { makeDataDir, startTestServer } from '../helpers/server.js';

const schemas: string[] = [];
const dirs: string[] = [];
const running: CliRun[] = [];
afterAll(async () => {
  for (const run of running) run.child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(schema);
});

function storeUrl(): string {
  const schema = freshSchemaName();
  schemas.push(schema);
  return `${TEST_PG_URL}?schema=${schema}`;
}

describe('a server on PostgreSQL', () => {
  it('keeps accounts, rooms, history and the inbox in the database, not the data directory', async () => {
    const store = storeUrl();
    const first = await startTestServer({ store });
    await makeAccount(first, 'alice');
    await makeAccount(first, 'bob');
    const alice = await first.connect('alice', PASSWORD);
    await alice.request('create', { room: 'dev' });
    const sent = await alice.request<{ mid: number }>('say', { room: 'dev', text: 'hello dev' });
    const pm = await alice.request<{ stored: string[] }>('msg', {
      to: ['bob'],
      text: 'offline hi',
    });
    expect(pm.stored).toEqual(['bob']);
    await first.dispose(); // the data directory is deleted with it

    // Another data directory, the same database: everything is still there.
    const second = await startTestServer({ store, set: { 'history.replay': 10 } });
    const { client: bob, events } = await connectRecording(second, 'bob', PASSWORD);
    expect(ofKind(events, 'private')).toMatchObject([
      { from: 'alice', text: 'offline hi', replay: 'missed' },
    ]);
    const joined = collect(bob);
    await bob.request('join', { room: 'dev' });
    await until('a message for bob', () => joined.some((e) => e.ev === 'message'), 5_000, 20);
    expect(joined.filter((e) => e.ev === 'message')).toMatchObject([
      { room: 'dev', from: 'alice', text: 'hello dev', replay: 'history', mid: sent.mid },
    ]);
    await second.dispose();
  });

  it('`confab serve --store postgres://…` runs as a process and says where its data is', async () => {
    const store = storeUrl();
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const run = runCli(['serve', '0', '--host', '127.0.0.1', '--data', dataDir, '--store', store], {
      CONFAB_ADMIN_PASSWORD: 'cluster-admin-password-1',
    });
    running.push(run);
    await run.waitForOutput('Connect with');
    expect(run.stdout()).toContain(`Store: PostgreSQL ${store}`);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(run.stdout())![1]);
    const admin = await ChatClient.connect({ host: '127.0.0.1', port });
    await expect(admin.login('admin', 'cluster-admin-password-1')).resolves.toMatchObject({
      role: 'admin',
    });
    admin.destroy();
    run.child.kill('SIGTERM');
    await run.exit();
  });

  it('refuses to start, saying why, when the database cannot be reached', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const run = runCli(
      [
        'serve',
        '0',
        '--host',
        '127.0.0.1',
        '--data',
        dataDir,
        '--store',
        'postgres://x@127.0.0.1:1/none',
      ],
      { CONFAB_ADMIN_PASSWORD: 'cluster-admin-password-1' },
    );
    expect(await run.exit()).toBe(1);
    expect(run.stderr()).toMatch(/cannot start: PostgreSQL: .*ECONNREFUSED/);
  });

  it('rejects a store that is neither sqlite nor postgres://', async () => {
    const run = runCli(['serve', '--store', 'mysql://x/y', '--data', makeDataDir()]);
    expect(await run.exit()).toBe(2);
    expect(run.stderr()).toMatch(/store must be "sqlite" or a postgres:\/\//);
  });
});
