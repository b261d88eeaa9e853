import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePostgresUrl, translateError } from '../../src/store/postgres/database.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { StoreConflictError, StoreUnavailableError } from '../../src/store/store.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import { nameSkeleton } from '../../src/core/accounts/confusables.js';

/** What is particular to PostgreSQL: migrations, the pool, failures and recovery. */
let admin: postgres.Sql;
const schemas: string[] = [];
const newSchema = () => {
  const schema = freshSchemaName();
  schemas.push(schema);
  return schema;
};

beforeAll(() => {
  admin = postgres(TEST_PG_URL, { max: 2, onnotice: false });
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
  await admin.end({ timeout: 2 });
});

describe('PostgreSQL store', () => {
  it('nodes starting together migrate once, under the advisory lock', async () => {
    const schema = newSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresStore.open(TEST_PG_URL, { schema })),
    );
    const rows = await admin.unsafe(`SELECT version FROM "${schema}".confab_schema`);
    // Each migration once.
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
    // All four work on the same tables.
    await Promise.all(
      stores.map((store, i) =>
        store.accounts.create({
          name: `n${i}`,
          nameKey: `n${i}`,
          nameSkeleton: nameSkeleton(`n${i}`),
          passwordHash: 'h',
          role: 'user',
          createdAt: i,
        }),
      ),
    );
    expect((await stores[0]!.accounts.list()).length).toBe(4);
    await Promise.all(stores.map((store) => store.close()));
  });

  it('refuses a schema newer than it knows', async () => {
    const schema = newSchema();
    await (await PostgresStore.open(TEST_PG_URL, { schema })).close();
    await admin.unsafe(
      `INSERT INTO "${schema}".confab_schema (version, name, applied_at) VALUES (999, 'future', 0)`,
    );
    await expect(PostgresStore.open(TEST_PG_URL, { schema })).rejects.toThrow(/version 999/);
  });

  it('takes the schema from the URL, and checks its name', () => {
    expect(parsePostgresUrl('postgres://u@h:5/db?schema=chat&sslmode=disable')).toEqual({
      url: 'postgres://u@h:5/db?sslmode=disable',
      schema: 'chat',
    });
    expect(parsePostgresUrl('postgresql://u@h/db').schema).toBe('public');
    expect(() => parsePostgresUrl('postgres://u@h/db?schema=Bad;drop')).toThrow(/schema must/);
    expect(() => parsePostgresUrl('redis://h/0')).toThrow(/postgres:\/\//);
  });

  it('maps driver errors onto the store errors', () => {
    expect(translateError(Object.assign(new Error('dup'), { code: '23505' }))).toBeInstanceOf(
      StoreConflictError,
    );
    for (const code of ['57P01', '08006', '53100', '57014', 'CONNECTION_CLOSED', 'ECONNREFUSED'])
      expect(translateError(Object.assign(new Error(code), { code }))).toBeInstanceOf(
        StoreUnavailableError,
      );
    // A bug (bad SQL) is not "the database is away".
    expect(
      translateError(Object.assign(new Error('syntax'), { code: '42601' })),
    ).not.toBeInstanceOf(StoreUnavailableError);
  });

  it('an unreachable database fails the open with StoreUnavailableError, quickly', async () => {
    const started = Date.now();
    await expect(
      PostgresStore.open('postgres://postgres@127.0.0.1:1/test', { connectTimeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  describe('when the database goes away mid-flight', () => {
    let store: PostgresStore;
    const applicationName = `confab-test-${randomBytes(4).toString('hex')}`;
    beforeAll(async () => {
      store = await PostgresStore.open(TEST_PG_URL, {
        schema: newSchema(),
        applicationName,
        statementTimeoutMs: 300,
        poolSize: 3,
      });
    });
    afterAll(() => store.close());

    const account = (name: string) => ({
      name,
      nameKey: name,
      nameSkeleton: nameSkeleton(name),
      passwordHash: 'h',
      role: 'user' as const,
      createdAt: 1,
    });

    it('killed connections fail only the requests in flight; the next ones reconnect', async () => {
      await store.accounts.create(account('before'));
      // A request held in flight by a lock, then every connection of this store killed.
      const locker = await admin.reserve();
      await locker`BEGIN`;
      await locker.unsafe(`LOCK TABLE "${store.schema}".accounts IN ACCESS EXCLUSIVE MODE`);
      // Expected before the kill: the request may fail before the kill's own query returns.
      const failed = expect(store.accounts.findByKey('before')).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE application_name = ${applicationName}`;
      await failed;
      await locker`ROLLBACK`;
      locker.release();
      // Nothing to restart: the pool opens new connections for the next requests.
      expect(await store.accounts.findByKey('before')).toMatchObject({ name: 'before' });
      await store.accounts.create(account('after'));
      expect((await store.accounts.list()).map((a) => a.name)).toEqual(['after', 'before']);
    });

    it('appends in flight fail with StoreUnavailableError; later appends are stored', async () => {
      const locker = await admin.reserve();
      await locker`BEGIN`;
      await locker.unsafe(`LOCK TABLE "${store.schema}".messages IN ACCESS EXCLUSIVE MODE`);
      const message = (text: string) => ({
        ts: 1,
        sender: 'a',
        senderAccountId: null,
        room: '#r',
        recipients: [],
        text,
      });
      // Both expected at once and before the kill: they may fail before the kill's own query
      // returns, and at different moments under store latency.
      const failed = Promise.all(
        [store.messages.append(message('lost1')), store.messages.append(message('lost2'))].map(
          (append) => expect(append).rejects.toBeInstanceOf(StoreUnavailableError),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE application_name = ${applicationName}`;
      await failed;
      await locker`ROLLBACK`;
      locker.release();
      const kept = await store.messages.append(message('kept'));
      expect((await store.messages.recentInRoom('#r', 10)).map((m) => m.id)).toEqual([kept.id]);
    });

    it('a statement over the timeout is cancelled and fails as unavailable', async () => {
      const locker = await admin.reserve();
      await locker`BEGIN`;
      await locker.unsafe(`LOCK TABLE "${store.schema}".rooms IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await expect(store.rooms.list()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      await locker`ROLLBACK`;
      locker.release();
      expect(await store.rooms.list()).toEqual([]);
    });
  });
});
