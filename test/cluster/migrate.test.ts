import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../../src/client/client.js';
import { randomFile, tempDir, transfersFor } from '../files/helpers.js';
import { runCli } from '../helpers/cli.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import {
  makeDataDir,
  startTestServer,
  TEST_ADMIN_PASSWORD,
  type TestServer,
} from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 9';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function register(server: TestServer, nick: string): Promise<ChatClient> {
  const client = await server.connect(nick);
  await client.request('register', { password: PASSWORD });
  return client;
}

/** A data directory with a bit of everything, made by a real server session. */
async function embeddedInstallation(work: string) {
  const dataDir = makeDataDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startTestServer({ dataDir });
  const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
  const alice = await register(server, 'alice');
  const bob = await register(server, 'bob');
  const carol = await register(server, 'carol');
  await carol.request('quit', {}).catch(() => undefined);
  carol.destroy();
  await alice.request('create', { room: 'tea' });
  await bob.request('join', { room: 'tea' });
  for (let i = 0; i < 25; i++) await alice.request('say', { room: 'tea', text: `tea ${i}` });
  await bob.request('say', { text: 'hello lobby' });
  await alice.request('msg', { to: ['carol'], text: 'for when you are back' });
  await server.connect('mallory');
  await bob.request('block', { name: 'mallory' });
  await admin.request('warn', { nick: 'bob', reason: 'too many puns' });
  await admin.request('ban', { nick: 'mallory', reason: 'spam' });
  const shared = randomFile(work, 'shared.bin', 300_000);
  const sharedUp = await transfersFor(alice, work).upload(shared.file);
  const forBob = randomFile(work, 'for-bob.bin', 1_200_000);
  const sent = await transfersFor(alice, work).send('bob', forBob.file);
  // The newest account, deleted: its id is never handed out again, here or after the move.
  const dora = await register(server, 'dora');
  await dora.request('deregister', { password: PASSWORD, confirm: true });
  await server.stop();
  // An archive big enough that copying its messages takes a while, however fast the
  // machine: the test's kill must land inside that table's transaction, not after it.
  const db = new Database(path.join(dataDir, 'confab.db'));
  try {
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
             INSERT INTO messages (ts, sender, room, text)
             SELECT 1000 + i, 'archivist', 'archive', 'old ' || i FROM n`);
    const { high } = db.prepare(`SELECT high FROM id_high_water WHERE name = 'accounts'`).get() as {
      high: number;
    };
    const { newest } = db.prepare(`SELECT max(id) AS newest FROM accounts`).get() as {
      newest: number;
    };
    // Dora's id is above every account left.
    expect(high).toBeGreaterThan(newest);
    return { dataDir, shared, sharedId: sharedUp.file, forBob, sentId: sent.file, doraId: high };
  } finally {
    db.close();
  }
}

function counts(dataDir: string, tables: readonly string[]) {
  const db = new Database(path.join(dataDir, 'confab.db'), { readonly: true });
  try {
    return Object.fromEntries(
      tables.map((table) => [
        table,
        (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

describe('confab admin migrate', () => {
  it('copies an embedded installation into PostgreSQL, resumes after a kill, verifies, and a node serves it', async () => {
    const work = tempDir('migrate');
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const made = await embeddedInstallation(work);
    const schema = freshSchemaName();
    cleanups.push(() => dropSchema(schema));
    const url = `${TEST_PG_URL}?schema=${schema}`;
    const args = ['admin', 'migrate', '--from', made.dataDir, '--to', url, '--batch-rows', '2'];

    // Killed mid-way: some tables copied and recorded, one cut off inside its transaction.
    const first = runCli(args);
    await first.waitForOutput(/messages: \d+\/\d+ rows/, 30_000);
    first.child.kill('SIGKILL');
    await first.exit();

    const second = runCli(args);
    expect(await second.exit()).toBe(0);
    const out = second.stdout();
    // The kill left work half done: the first run never finished, the second finished it.
    expect(first.stdout()).not.toContain('all verified');
    expect(out).toContain('copied by an earlier run');
    expect(out).toMatch(/messages: \d+ rows copied/);
    expect(out).toMatch(/messages\s+\d+ rows\s+[0-9a-f]{16}\s+ok/);
    expect(out).toMatch(/file bytes\s+2 files/);
    expect(out).toContain('all verified');

    // Every table as many rows as the source (files: the two finished, account-held ones).
    const tables = [
      'accounts',
      'rooms',
      'room_members',
      'messages',
      'message_recipients',
      'blocks',
      'bans',
      'moderation_cases',
      'audit_log',
      'files',
    ];
    const expected = counts(made.dataDir, tables);
    expect(expected.files).toBe(2);
    expect(expected.messages).toBeGreaterThanOrEqual(4027);
    const sql = postgres(TEST_PG_URL, { max: 1, onnotice: false });
    try {
      for (const table of tables) {
        const [row] = await sql.unsafe<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM "${schema}"."${table}"`,
        );
        expect({ table, n: row!.n }).toEqual({ table, n: expected[table] });
      }
      const [blobs] = await sql.unsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${schema}".blobs WHERE state = 'ready'`,
      );
      expect(blobs!.n).toBe(2);
    } finally {
      await sql.end({ timeout: 2 });
    }

    // A third run finds everything done and changes nothing.
    const third = runCli(args);
    expect(await third.exit()).toBe(0);
    expect(third.stdout()).not.toMatch(/rows copied/);

    // A node on the migrated database: passwords, history, inbox, bans, files all there.
    const node = await startTestServer({ store: url });
    cleanups.push(() => node.stop());
    const alice = await node.connect('alice', PASSWORD);
    const history = await alice.request<{ messages: { text: string }[] }>('history', {
      room: 'tea',
      count: 3,
    });
    expect(history.messages.map((m) => m.text)).toEqual(['tea 22', 'tea 23', 'tea 24']);
    const carol = await node.connect('carol', PASSWORD);
    const inbox = await carol.request<{ messages: { text: string }[] }>('inbox', { which: 'all' });
    expect(inbox.messages.map((m) => m.text)).toContain('for when you are back');
    const mallory = await node.open();
    const refused = await mallory.login('mallory').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RequestError);
    const bob = await node.connect('bob', PASSWORD);
    const downloads = path.join(work, 'downloads');
    mkdirSync(downloads);
    const got = await transfersFor(bob, downloads).get('alice', made.sentId);
    expect(readFileSync(got.path).equals(readFileSync(made.forBob.file))).toBe(true);
    const shared = await transfersFor(alice, path.join(work, 'downloads')).download(made.sharedId);
    expect(shared.sha256).toBe(made.shared.sha256);
    // New rows are numbered after the copied ones.
    const said = await alice.request<{ mid: number }>('say', { room: 'tea', text: 'after' });
    expect(said.mid).toBeGreaterThan(expected.messages!);
    // ... and after the ids deleted before the move: the next account does not get dora's.
    await register(node, 'eve');
    const check = postgres(TEST_PG_URL, { max: 1, onnotice: false });
    try {
      const [eve] = await check.unsafe<{ id: number }[]>(
        `SELECT id::int AS id FROM "${schema}".accounts WHERE name_key = 'eve'`,
      );
      expect(eve!.id).toBeGreaterThan(made.doraId);
    } finally {
      await check.end({ timeout: 2 });
    }
  }, 120_000);

  it('refuses a target that already holds another installation', async () => {
    const work = tempDir('migrate');
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const dataDir = makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startTestServer({ dataDir });
    await register(server, 'zoe');
    await server.stop();
    const schema = freshSchemaName();
    cleanups.push(() => dropSchema(schema));
    const url = `${TEST_PG_URL}?schema=${schema}`;
    const busy = await startTestServer({ store: url });
    await register(busy, 'someone');
    await busy.stop();
    const run = runCli(['admin', 'migrate', '--from', dataDir, '--to', url]);
    expect(await run.exit()).toBe(1);
    expect(run.stderr()).toContain('already holds accounts or messages');
  }, 60_000);
});
