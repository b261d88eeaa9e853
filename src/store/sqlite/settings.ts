import type Database from 'better-sqlite3';
import type { SettingsStore } from '../store.js';
import { prepared, runStatement } from './database.js';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly db: Database.Database) {}

  async liveValues(): Promise<Array<{ key: string; value: string }>> {
    return prepared(this.db, 'SELECT key, value FROM live_settings ORDER BY key').all() as Array<{
      key: string;
      value: string;
    }>;
  }

  async setLive(key: string, value: string): Promise<void> {
    runStatement(
      this.db,
      'INSERT INTO live_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  async removeLive(key: string): Promise<void> {
    runStatement(this.db, 'DELETE FROM live_settings WHERE key = ?', key);
  }
}
