import type Database from 'better-sqlite3';
import type { PresenceStore } from '../store.js';

/** When accounts were last online, for `/wholasthr` across restarts. */
export class SqlitePresenceStore implements PresenceStore {
  private readonly selectSeenSince: Database.Statement<
    [number],
    { name: string; nameKey: string; lastSeenAt: number }
  >;

  constructor(db: Database.Database) {
    this.selectSeenSince = db.prepare(
      `SELECT name, name_key AS nameKey, last_seen_at AS lastSeenAt FROM accounts
        WHERE last_seen_at >= ? ORDER BY last_seen_at DESC`,
    );
  }

  async accountsSeenSince(
    since: number,
  ): Promise<{ name: string; nameKey: string; lastSeenAt: number }[]> {
    return this.selectSeenSince.all(since);
  }
}
