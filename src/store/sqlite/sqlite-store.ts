import type Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { SqliteAccountStore } from './accounts.js';
import { openDatabase, WriteBatcher } from './database.js';
import { SqliteMessageStore } from './messages.js';

/** The embedded default store: one SQLite file in the data directory. */
export class SqliteStore implements Store {
  readonly messages: SqliteMessageStore;
  readonly accounts: SqliteAccountStore;
  private readonly batcher: WriteBatcher;
  private closed = false;

  private constructor(readonly db: Database.Database) {
    this.batcher = new WriteBatcher(db);
    this.messages = new SqliteMessageStore(db, this.batcher);
    this.accounts = new SqliteAccountStore(db);
  }

  static open(dataDir: string): SqliteStore {
    return new SqliteStore(openDatabase(dataDir));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batcher.flush();
    this.db.close();
  }
}
