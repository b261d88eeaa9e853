import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { DATABASE_FILE } from '../../src/store/sqlite/database.js';
import { MIGRATIONS as SQLITE_MIGRATIONS, migrate } from '../../src/store/sqlite/migrations.js';
import { eventually, randomFile, tempDir, transfersFor } from '../files/helpers.js';
import { startTestNodes } from '../helpers/nodes.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Stored rows name no guest session (issue 13): a guest's files are filed under a random
 * guest key of its session, and the migrations clear the session ids older rows held.
 */

const OLD_ROWS = [
  // A guest's file for an account, a file for a guest, an account's file for an account.
  { storage: 'a', sender: 's17', recipient: null },
  { storage: 'b', sender: null, recipient: 's18' },
  { storage: 'c', sender: null, recipient: null },
] as const;

let server: TestServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await server?.dispose();
  server = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('guest keys instead of session ids in file rows', () => {
  it('a guest sending and receiving files leaves no session id in any row', async () => {
    server = await startTestServer();
    const dir = tempDir('guest-key-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const piece = randomFile(dir, 'note.txt', 2000);
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await transfersFor(alice, path.join(dir, 'alice')).send('bob', piece.file);
    await transfersFor(bob, path.join(dir, 'bob')).send('alice', piece.file);
    const who = await alice.request<{ users: { nick: string; session: string }[] }>('who');
    const sessions = who.users.map((user) => user.session);
    expect(sessions).toHaveLength(2);

    const rows = server.database.prepare('SELECT * FROM files').all() as Array<
      Record<string, unknown>
    >;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      for (const value of Object.values(row)) expect(sessions).not.toContain(value);
      // Filed under each guest's own key: sender and recipient keys differ, none is empty.
      expect(row.sender_guest).toMatch(/^g-/);
      expect(row.recipient_guest).toMatch(/^g-/);
      expect(row.sender_guest).not.toBe(row.recipient_guest);
    }
    // The keys still do what the session ids did: each sees what waits for it, and fetches it.
    const listing = await bob.request<{ waiting: { from: string }[] }>('files');
    expect(listing.waiting.map((file) => file.from)).toEqual(['alice']);
    mkdirSync(path.join(dir, 'bob'), { recursive: true });
    const got = await transfersFor(bob, path.join(dir, 'bob')).get('alice', 'note.txt');
    expect(got.sha256).toBe(piece.sha256);
  });

  it("guests on two nodes: the offer, the fetch and the sender's notice find each guest by its key", async () => {
    const nodes = await startTestNodes(2);
    cleanups.push(() => nodes.dispose());
    const dir = tempDir('guest-key-nodes-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'bob'));
    const piece = randomFile(dir, 'plan.txt', 5000);
    const alice = await nodes.connect(0, 'alice');
    const bob = await nodes.connect(1, 'bob');
    const offered = bob.waitFor((event) => event.ev === 'file');
    const sent = await transfersFor(alice, dir).send('bob', piece.file);
    expect(await offered).toMatchObject({ from: 'alice', name: 'plan.txt' });
    const gone = alice.waitFor((event) => event.ev === 'filegone');
    const got = await transfersFor(bob, path.join(dir, 'bob')).get('alice', sent.file);
    expect(got.sha256).toBe(piece.sha256);
    expect(await gone).toMatchObject({ reason: 'fetched', by: 'bob' });

    // A file for a guest on another node goes when that guest leaves.
    const again = randomFile(dir, 'second.txt', 100);
    await transfersFor(alice, dir).send('bob', again.file);
    const listed = await bob.request<{ waiting: unknown[] }>('files');
    expect(listed.waiting).toHaveLength(1);
    await bob.quit();
    const store = nodes.nodes[0]!.core.store;
    await eventually(
      async () =>
        (await store.files.shared()).length === 0 && (await store.files.totalBytes()) === 0,
    );
  });

  it('SQLite: migration 14 renames the columns and keeps no session id', async () => {
    const dataDir = makeDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = new Database(path.join(dataDir, DATABASE_FILE));
    cleanups.push(() => {
      if (db.open) db.close();
    });
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 13)) {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
    const insert = db.prepare(
      `INSERT INTO files (storage_name, name, size, sha256, state, sender, sender_session,
                          recipient, recipient_session, created_at, node)
       VALUES (?, 'x', 1, 'h', 'ready', 'someone', ?, 'other', ?, 1, 'n-old')`,
    );
    for (const row of OLD_ROWS) insert.run(row.storage, row.sender, row.recipient);

    expect(migrate(db)).toBe(SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version);
    const columns = (db.prepare('PRAGMA table_info(files)').all() as { name: string }[]).map(
      (column) => column.name,
    );
    expect(columns).toEqual(expect.arrayContaining(['sender_guest', 'recipient_guest']));
    expect(columns.filter((name) => name.endsWith('_session'))).toEqual([]);
    const rows = db
      .prepare('SELECT storage_name, sender_guest, recipient_guest FROM files ORDER BY 1')
      .all() as Array<{
      storage_name: string;
      sender_guest: string | null;
      recipient_guest: string | null;
    }>;
    expect(rows.map((row) => row.sender_guest)).toEqual([null, null, null]);
    // A file that waited for a guest still waits for "a guest", one no session can be.
    expect(rows[1]!.recipient_guest).toMatch(/^\(a session before/);
    expect(rows[2]!.recipient_guest).toBeNull();
    db.close();
  });

  it('PostgreSQL: migration 7 renames the columns and keeps no session id', async () => {
    const schema = freshSchemaName();
    cleanups.push(() => dropSchema(schema));
    const sql = postgres(TEST_PG_URL, {
      max: 1,
      onnotice: () => undefined,
      connection: { search_path: schema },
    });
    cleanups.push(() => sql.end({ timeout: 2 }));
    await sql.unsafe(`CREATE SCHEMA "${schema}"`);
    await sql.unsafe(`CREATE TABLE "${schema}".confab_schema (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    for (const migration of PG_MIGRATIONS.filter((m) => m.version <= 6)) {
      await sql.unsafe(migration.sql);
      await sql`INSERT INTO confab_schema (version, name, applied_at)
                VALUES (${migration.version}, ${migration.name}, 0)`;
    }
    for (const row of OLD_ROWS)
      await sql`INSERT INTO files (storage_name, name, size, sha256, state, sender, sender_session,
                                   recipient, recipient_session, created_at, node)
                VALUES (${row.storage}, 'x', 1, 'h', 'ready', 'someone', ${row.sender},
                        'other', ${row.recipient}, 1, 'n-old')`;

    const store = await PostgresStore.open(TEST_PG_URL, { schema });
    cleanups.push(() => store.close());
    const columns = await sql<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns
       WHERE table_schema = ${schema} AND table_name = 'files'`;
    const names = columns.map((column) => column.column_name);
    expect(names).toEqual(expect.arrayContaining(['sender_guest', 'recipient_guest']));
    expect(names.filter((name) => name.endsWith('_session'))).toEqual([]);
    const rows = await sql<
      { storage_name: string; sender_guest: string | null; recipient_guest: string | null }[]
    >`SELECT storage_name, sender_guest, recipient_guest FROM files ORDER BY 1`;
    expect(rows.map((row) => row.sender_guest)).toEqual([null, null, null]);
    expect(rows[1]!.recipient_guest).toMatch(/^\(a session before/);
    expect(rows[2]!.recipient_guest).toBeNull();
    // Restart recovery on the node that held the guest removes the file that waited for it.
    const removed = await store.files.recoverAfterRestart('n-old');
    expect(removed.map((file) => file.storageName)).toEqual(['b']);
  });
});
