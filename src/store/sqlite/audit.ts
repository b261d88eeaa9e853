import type Database from 'better-sqlite3';
import type { AuditEntry, AuditStore } from '../store.js';
import { prepared, runStatement } from './database.js';

export class SqliteAuditStore implements AuditStore {
  constructor(private readonly db: Database.Database) {}

  async record(entry: AuditEntry): Promise<void> {
    runStatement(
      this.db,
      'INSERT INTO audit_log (ts, actor, action, target, details) VALUES (?, ?, ?, ?, ?)',
      entry.ts,
      entry.actor,
      entry.action,
      entry.target,
      entry.details,
    );
  }

  async recent(limit: number): Promise<Array<AuditEntry & { readonly id: number }>> {
    return prepared(
      this.db,
      `SELECT id, ts, actor, action, target, details FROM
           (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id ASC`,
    ).all(limit) as Array<AuditEntry & { id: number }>;
  }
}
