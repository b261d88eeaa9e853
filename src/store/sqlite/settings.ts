import type Database from 'better-sqlite3';
import type { SettingsStore } from '../store.js';
import { translateError, prepared } from './database.js';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly db: Database.Database) {}

  async liveValues(): Promise<Array<{ key: string; value: string }>> {
    return prepared(this.db, 'SELECT key, value FROM live_settings ORDER BY key').all() as Array<{
      key: string;
      value: string;
    }>;
  }

  async setLive(key: string, value: string): Promise<void> {
    this.write(
      'INSERT INTO live_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  async removeLive(key: string): Promise<void> {
    this.write('DELETE FROM live_settings WHERE key = ?', key);
  }

  private write(sql: string, ...params: unknown[]): void {
    try {
      prepared(this.db, sql).run(...params);
    } catch (error) {
      throw translateError(error);
    }
  }
}
