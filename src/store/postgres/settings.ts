import type { SettingsStore } from '../store.js';
import { guarded, type Sql } from './database.js';

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly sql: Sql) {}

  async liveValues(): Promise<Array<{ key: string; value: string }>> {
    const rows = await guarded(
      () => this.sql<{ key: string; value: string }[]>`
        SELECT key, value FROM live_settings ORDER BY key COLLATE "C"`,
    );
    return rows.map((row) => ({ key: row.key, value: row.value }));
  }

  async setLive(key: string, value: string): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO live_settings (key, value) VALUES (${key}, ${value})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    );
  }

  async removeLive(key: string): Promise<void> {
    await guarded(() => this.sql`DELETE FROM live_settings WHERE key = ${key}`);
  }
}
