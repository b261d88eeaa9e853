import { rmSync } from 'node:fs';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeDataDir } from '../helpers/server.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('SQLite', async () => {
  const dataDir = makeDataDir();
  const store = SqliteStore.open(dataDir);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
