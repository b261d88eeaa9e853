import type Database from 'better-sqlite3';
import type { BlockStore, StoredBlock } from '../store.js';
import { type BlockRow, toBlock } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

/** Accounts' blocks: who an account does not want to hear from. */
export class SqliteBlockStore implements BlockStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  async list(): Promise<StoredBlock[]> {
    const rows = prepared(
      this.db,
      'SELECT account_id, blocked_key, blocked_name FROM blocks ORDER BY created_at',
    ).all() as BlockRow[];
    return rows.map(toBlock);
  }

  add(block: StoredBlock, at: number): Promise<void> {
    return this.writer.write('blocks.add', [block, at]);
  }

  remove(accountId: number, blockedKey: string): Promise<void> {
    return this.writer.write('blocks.remove', [accountId, blockedKey]);
  }
}
