import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

const message = (text: string) => ({
  ts: Date.now(),
  sender: 'alice',
  senderAccountId: null,
  room: '#r',
  recipients: [],
  text,
});

describe('PostgreSQL restarted under a store', () => {
  let pg: PrivatePostgres;
  let store: PostgresStore;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    store = await PostgresStore.open(pg.url, { connectTimeoutMs: 1000, statementTimeoutMs: 1000 });
  }, 90_000);
  afterAll(async () => {
    await store?.close();
    pg?.dispose();
  });

  it('fails requests with StoreUnavailableError while it is away, keeps what was acknowledged, resumes by itself', async () => {
    const acknowledged = [];
    for (let i = 0; i < 20; i++) acknowledged.push(await store.messages.append(message(`a${i}`)));
    pg.stop();
    await expect(store.messages.append(message('while away'))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.accounts.list()).rejects.toBeInstanceOf(StoreUnavailableError);
    pg.start();
    // The same store, not reopened: the pool connects again on the next request.
    const after = await store.messages.append(message('after'));
    const history = await store.messages.recentInRoom('#r', 100);
    expect(history.map((m) => m.id)).toEqual([...acknowledged.map((m) => m.id), after.id]);
  }, 90_000);
});
