import type Database from 'better-sqlite3';
import type { AuditEntry, AuditStore } from '../store.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

export class SqliteAuditStore implements AuditStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  record(entry: AuditEntry): Promise<void> {
    return this.writer.write('audit.record', [entry]);
  }

  async recent(limit: number): Promise<Array<AuditEntry & { readonly id: number }>> {
    return prepared(
      this.db,
      `SELECT id, ts, actor, action, target, details FROM
           (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id ASC`,
    ).all(limit) as Array<AuditEntry & { id: number }>;
  }
}
