import type { BlockStore, StoredBlock } from '../store.js';
import { type BlockRow, toBlock } from '../rows.js';
import { guarded, type Sql } from './database.js';

/** Accounts' blocks: who an account does not want to hear from. */
export class PostgresBlockStore implements BlockStore {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<StoredBlock[]> {
    const rows = await guarded(
      () => this.sql<BlockRow[]>`
        SELECT account_id, blocked_key, blocked_name FROM blocks
         ORDER BY created_at, account_id, blocked_key`,
    );
    return rows.map(toBlock);
  }

  async add(block: StoredBlock, at: number): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO blocks (account_id, blocked_key, blocked_name, created_at)
        VALUES (${block.accountId}, ${block.blockedKey}, ${block.blockedName}, ${at})
        ON CONFLICT DO NOTHING`,
    );
  }

  async remove(accountId: number, blockedKey: string): Promise<void> {
    await guarded(
      () =>
        this
          .sql`DELETE FROM blocks WHERE account_id = ${accountId} AND blocked_key = ${blockedKey}`,
    );
  }
}
