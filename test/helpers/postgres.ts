import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { PostgresOptions } from '../../src/store/postgres/database.js';

/** The machine's PostgreSQL (trust authentication, database `test`); CONFAB_TEST_PG overrides. */
export const TEST_PG_URL = process.env.CONFAB_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name of its own for one test run, so runs never collide. */
export function freshSchemaName(): string {
  return `confab_t${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string, url = TEST_PG_URL): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: false });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export interface TestPostgresStore {
  readonly store: PostgresStore;
  readonly schema: string;
  /** Closes the store and drops its schema. */
  cleanup(): Promise<void>;
}

/** A PostgreSQL store in a fresh schema of the test database. */
export async function openTestPostgresStore(
  options: PostgresOptions = {},
): Promise<TestPostgresStore> {
  const schema = options.schema ?? freshSchemaName();
  const store = await PostgresStore.open(TEST_PG_URL, { ...options, schema });
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
}
