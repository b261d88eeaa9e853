import type Database from 'better-sqlite3';
import type { Account, AccountStore, NewAccount } from '../store.js';
import { type AccountRow, toAccount } from '../rows.js';
import { prepared, runStatement, type WriteBatcher } from './database.js';

export class SqliteAccountStore implements AccountStore {
  constructor(
    private readonly db: Database.Database,
    private readonly batcher: WriteBatcher,
  ) {}

  async create(account: NewAccount): Promise<Account> {
    const { lastInsertRowid } = runStatement(
      this.db,
      'INSERT INTO accounts (name, name_key, name_skeleton, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      account.name,
      account.nameKey,
      account.nameSkeleton,
      account.passwordHash,
      account.role,
      account.createdAt,
    );
    // The skeleton is for lookups only; an account reads back as it was created.
    const { nameSkeleton: _skeleton, ...created } = account;
    return { ...created, id: Number(lastInsertRowid), lastSeenAt: null };
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
    const rows = prepared(
      this.db,
      'SELECT id, name_key FROM accounts WHERE name_skeleton IS NULL',
    ).all() as { id: number; name_key: string }[];
    if (rows.length === 0) return 0;
    const update = prepared(this.db, 'UPDATE accounts SET name_skeleton = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const row of rows) update.run(skeletonOf(row.name_key), row.id);
    })();
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

  async setPasswordHash(id: number, passwordHash: string): Promise<void> {
    runStatement(this.db, 'UPDATE accounts SET password_hash = ? WHERE id = ?', passwordHash, id);
  }

  async setLastSeen(id: number, at: number): Promise<void> {
    runStatement(this.db, 'UPDATE accounts SET last_seen_at = ? WHERE id = ?', at, id);
  }

  touchLastSeen(ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    const list = JSON.stringify(ids);
    // One statement for every account online, whatever their number (no bound-variable
    // limit), joining the next commit. A logout is written at once, so it may land first:
    // `last_seen_at < ?` keeps it rather than moving the time back to this checkpoint.
    return this.batcher.enqueueLazy(() => {
      prepared(
        this.db,
        `UPDATE accounts SET last_seen_at = ?
          WHERE id IN (SELECT value FROM json_each(?))
            AND (last_seen_at IS NULL OR last_seen_at < ?)`,
      ).run(at, list, at);
    });
  }

  async delete(id: number): Promise<void> {
    runStatement(this.db, 'DELETE FROM accounts WHERE id = ?', id);
  }
}
