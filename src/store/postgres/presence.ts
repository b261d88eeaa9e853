import type { PresenceStore } from '../store.js';
import { guarded, type Sql } from './database.js';

/** When accounts were last online, for `/wholasthr` across restarts and nodes. */
export class PostgresPresenceStore implements PresenceStore {
  constructor(private readonly sql: Sql) {}

  async accountsSeenSince(
    since: number,
  ): Promise<{ name: string; nameKey: string; lastSeenAt: number }[]> {
    const rows = await guarded(
      () => this.sql<{ name: string; name_key: string; last_seen_at: number }[]>`
        SELECT name, name_key, last_seen_at FROM accounts
         WHERE last_seen_at >= ${since} ORDER BY last_seen_at DESC, id`,
    );
    return rows.map((row) => ({
      name: row.name,
      nameKey: row.name_key,
      lastSeenAt: row.last_seen_at,
    }));
  }
}
