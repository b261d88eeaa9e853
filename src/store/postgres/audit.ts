import type { AuditEntry, AuditStore } from '../store.js';
import { guarded, type Sql } from './database.js';

export class PostgresAuditStore implements AuditStore {
  constructor(private readonly sql: Sql) {}

  async record(entry: AuditEntry): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO audit_log (ts, actor, action, target, details)
        VALUES (${entry.ts}, ${entry.actor}, ${entry.action}, ${entry.target}, ${entry.details})`,
    );
  }

  async recent(limit: number): Promise<Array<AuditEntry & { readonly id: number }>> {
    const rows = await guarded(
      () => this.sql<Array<AuditEntry & { id: number }>>`
        SELECT * FROM (SELECT id, ts, actor, action, target, details FROM audit_log
                        ORDER BY id DESC LIMIT ${limit}) AS newest
         ORDER BY id ASC`,
    );
    return rows.map(({ id, ts, actor, action, target, details }) => ({
      id,
      ts,
      actor,
      action,
      target,
      details,
    }));
  }
}
