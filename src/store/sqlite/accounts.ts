import type Database from 'better-sqlite3';
import type { Account, AccountStore, NewAccount } from '../store.js';
import { type AccountRow, toAccount } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

export class SqliteAccountStore implements AccountStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  create(account: NewAccount): Promise<Account> {
    // The skeleton is for lookups only; an account reads back as it was created.
    const { nameSkeleton: _skeleton, ...created } = account;
    return this.writer.write('accounts.create', [account], (id) => ({
      ...created,
      id,
      lastSeenAt: null,
    }));
  }

  async findByKey(nameKey: string): Promise<Account | undefined> {
    const row = prepared(this.db, 'SELECT * FROM accounts WHERE name_key = ?').get(nameKey) as
      AccountRow | undefined;
    return row && toAccount(row);
  }

  async findBySkeleton(nameSkeleton: string): Promise<Account | undefined> {
    const row = prepared(
      this.db,
      'SELECT * FROM accounts WHERE name_skeleton = ? ORDER BY id LIMIT 1',
    ).get(nameSkeleton) as AccountRow | undefined;
    return row && toAccount(row);
  }

  async fillSkeletons(skeletonOf: (nameKey: string) => string): Promise<number> {
    // The skeleton is computed here (a function does not cross threads); the writer sets
    // it only where it is still missing.
    const rows = prepared(
      this.db,
      'SELECT id, name_key FROM accounts WHERE name_skeleton IS NULL',
    ).all() as { id: number; name_key: string }[];
    if (rows.length === 0) return 0;
    await this.writer.write('accounts.setSkeletons', [
      rows.map((row) => [row.id, skeletonOf(row.name_key)] as const),
    ]);
    return rows.length;
  }

  async findById(id: number): Promise<Account | undefined> {
    const row = prepared(this.db, 'SELECT * FROM accounts WHERE id = ?').get(id) as
      AccountRow | undefined;
    return row && toAccount(row);
  }

  async list(): Promise<Account[]> {
    const rows = prepared(
      this.db,
      'SELECT * FROM accounts ORDER BY name_key',
    ).all() as AccountRow[];
    return rows.map(toAccount);
  }

  setPasswordHash(id: number, passwordHash: string): Promise<void> {
    return this.writer.write('accounts.setPasswordHash', [id, passwordHash]);
  }

  setLastSeen(id: number, at: number): Promise<void> {
    return this.writer.write('accounts.setLastSeen', [id, at]);
  }

  touchLastSeen(ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    // Nothing waits on a checkpoint: it joins the next commit.
    return this.writer.writeLazy('accounts.touchLastSeen', [ids, at]);
  }

  delete(id: number): Promise<void> {
    return this.writer.write('accounts.delete', [id]);
  }
}
