import type { StoreSettings } from '../config/config.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';

/**
 * The store the configuration names: the embedded SQLite file in the data directory, or a
 * PostgreSQL database shared by the nodes of a cluster (migrated on open).
 */
export async function openStore(
  settings: StoreSettings,
  dataDir: string,
  nodeName = 'confab',
): Promise<Store> {
  if (settings.kind === 'sqlite') return SqliteStore.open(dataDir);
  // Loaded only when asked for: the embedded default starts without the driver.
  const { PostgresStore } = await import('../store/postgres/postgres-store.js');
  return PostgresStore.open(settings.url, {
    poolSize: settings.poolSize,
    statementTimeoutMs: settings.statementTimeoutMs,
    applicationName: nodeName,
  });
}

/** The store's location as the start-up text and logs show it: never a password. */
export function describeStore(settings: StoreSettings, dataDir: string): string {
  if (settings.kind === 'sqlite') return `SQLite in ${dataDir}`;
  const url = new URL(settings.url);
  if (url.password) url.password = '***';
  return `PostgreSQL ${url.toString()}`;
}

/** The bus's location as the start-up text shows it: never a password. */
export function describeBus(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return `Redis ${url.toString()}`;
}
