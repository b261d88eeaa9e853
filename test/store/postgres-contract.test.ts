import { afterAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import { describeStoreContract } from './contract.js';

// One schema for this file's run, dropped afterwards; emptied after each test (cheaper
// than creating and dropping a schema per test, and it checks that a second open of a
// migrated schema migrates nothing).
const schema = freshSchemaName();
/** Children before parents, so no foreign key is in the way. */
const TABLES = [
  'message_recipients',
  'messages',
  'room_members',
  'rooms',
  'blocks',
  'unreported_failures',
  'file_tombstones',
  'files',
  'blobs',
  'accounts',
  'login_failures',
  'address_failures',
  'bans',
  'suspensions',
  'moderation_cases',
  'name_addresses',
  'live_settings',
  'audit_log',
  'moderation_switches',
];
afterAll(() => dropSchema(schema));

describeStoreContract('PostgreSQL', async () => {
  const store = await PostgresStore.open(TEST_PG_URL, { schema });
  return {
    store,
    async cleanup() {
      // DELETE rather than TRUNCATE: on tables this small it is several times faster.
      await store.sql.unsafe(TABLES.map((table) => `DELETE FROM ${table};`).join(' '));
      await store.close();
    },
  };
});
