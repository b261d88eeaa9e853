import type Database from 'better-sqlite3';
import type { SettingsStore } from '../store.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

export class SqliteSettingsStore implements SettingsStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  async liveValues(): Promise<Array<{ key: string; value: string }>> {
    return prepared(this.db, 'SELECT key, value FROM live_settings ORDER BY key').all() as Array<{
      key: string;
      value: string;
    }>;
  }

  setLive(key: string, value: string): Promise<void> {
    return this.writer.write('settings.setLive', [key, value]);
  }

  removeLive(key: string): Promise<void> {
    return this.writer.write('settings.removeLive', [key]);
  }
}
