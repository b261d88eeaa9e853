import type Database from 'better-sqlite3';
import type { BlockStore, StoredBlock } from '../store.js';
import { type BlockRow, toBlock } from '../rows.js';
import { prepared, runStatement } from './database.js';

/** Accounts' blocks: who an account does not want to hear from. */
export class SqliteBlockStore implements BlockStore {
  constructor(private readonly db: Database.Database) {}

  async list(): Promise<StoredBlock[]> {
    const rows = prepared(
      this.db,
      'SELECT account_id, blocked_key, blocked_name FROM blocks ORDER BY created_at',
    ).all() as BlockRow[];
    return rows.map(toBlock);
  }

  async add(block: StoredBlock, at: number): Promise<void> {
    runStatement(
      this.db,
      `INSERT OR IGNORE INTO blocks (account_id, blocked_key, blocked_name, created_at)
       VALUES (?, ?, ?, ?)`,
      block.accountId,
      block.blockedKey,
      block.blockedName,
      at,
    );
  }

  async remove(accountId: number, blockedKey: string): Promise<void> {
    runStatement(
      this.db,
      'DELETE FROM blocks WHERE account_id = ? AND blocked_key = ?',
      accountId,
      blockedKey,
    );
  }
}
