import type { Account, AccountStore, NewAccount } from '../store.js';
import { type AccountRow, toAccount } from '../rows.js';
import { guarded, type Sql } from './database.js';

export class PostgresAccountStore implements AccountStore {
  constructor(private readonly sql: Sql) {}

  async create(account: NewAccount): Promise<Account> {
    const [row] = await guarded(
      () => this.sql<{ id: number }[]>`
        INSERT INTO accounts (name, name_key, name_skeleton, password_hash, role, created_at)
        VALUES (${account.name}, ${account.nameKey}, ${account.nameSkeleton},
                ${account.passwordHash}, ${account.role}, ${account.createdAt})
        RETURNING id`,
    );
    // The skeleton is for lookups only; an account reads back as it was created.
    const { nameSkeleton: _skeleton, ...created } = account;
    return { ...created, id: row!.id, lastSeenAt: null };
  }

  async findByKey(nameKey: string): Promise<Account | undefined> {
    const [row] = await guarded(
      () => this.sql<AccountRow[]>`SELECT * FROM accounts WHERE name_key = ${nameKey}`,
    );
    return row && toAccount(row);
  }

  async findBySkeleton(nameSkeleton: string): Promise<Account | undefined> {
    const [row] = await guarded(
      () => this.sql<AccountRow[]>`
        SELECT * FROM accounts WHERE name_skeleton = ${nameSkeleton} ORDER BY id LIMIT 1`,
    );
    return row && toAccount(row);
  }

  async fillSkeletons(skeletonOf: (nameKey: string) => string): Promise<number> {
    const rows = await guarded(
      () => this.sql<{ id: number; name_key: string }[]>`
        SELECT id, name_key FROM accounts WHERE name_skeleton IS NULL`,
    );
    if (rows.length === 0) return 0;
    await guarded(() =>
      this.sql.begin(async (tx) => {
        for (const row of rows)
          await tx`UPDATE accounts SET name_skeleton = ${skeletonOf(row.name_key)}
                   WHERE id = ${row.id} AND name_skeleton IS NULL`;
      }),
    );
    return rows.length;
  }

  async findById(id: number): Promise<Account | undefined> {
    const [row] = await guarded(
      () => this.sql<AccountRow[]>`SELECT * FROM accounts WHERE id = ${id}`,
    );
    return row && toAccount(row);
  }

  async list(): Promise<Account[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const rows = await guarded(
      () => this.sql<AccountRow[]>`SELECT * FROM accounts ORDER BY name_key COLLATE "C"`,
    );
    return rows.map(toAccount);
  }

  async setPasswordHash(id: number, passwordHash: string): Promise<void> {
    await guarded(
      () => this.sql`UPDATE accounts SET password_hash = ${passwordHash} WHERE id = ${id}`,
    );
  }

  async setLastSeen(id: number, at: number): Promise<void> {
    await guarded(() => this.sql`UPDATE accounts SET last_seen_at = ${at} WHERE id = ${id}`);
  }

  async touchLastSeen(ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return;
    // One statement for every account online. A logout is written at once and may land
    // first: `last_seen_at < at` keeps it rather than moving the time back.
    await guarded(
      () => this.sql`
        UPDATE accounts SET last_seen_at = ${at}
         WHERE id = ANY(${[...ids]}::bigint[])
           AND (last_seen_at IS NULL OR last_seen_at < ${at})`,
    );
  }

  async delete(id: number): Promise<void> {
    await guarded(() => this.sql`DELETE FROM accounts WHERE id = ${id}`);
  }
}
