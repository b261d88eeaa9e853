import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATABASE_FILE } from '../../store/sqlite/database.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';

export interface AdminFlags {
  data?: string;
}

/** The data directory `confab admin` works on: `--data`, then CONFAB_DATA, then the default. */
export function dataDirOf(flags: AdminFlags): string {
  return path.resolve(flags.data ?? process.env.CONFAB_DATA ?? 'confab-data');
}

/**
 * Opens an existing data directory's store. SQLite's WAL lets this run beside a server
 * using the same directory.
 */
export function openExistingStore(dataDir: string): SqliteStore {
  if (!existsSync(path.join(dataDir, DATABASE_FILE)))
    throw new Error(`No Confab database in ${dataDir} (use --data DIR)`);
  return SqliteStore.open(dataDir);
}

/** Runs a subcommand: its result is the exit code; a failure is one clear line, exit 1. */
export function exitWith(run: () => Promise<number>): Promise<void> {
  return run().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`confab: ${(error as Error).message}`);
      process.exitCode = 1;
    },
  );
}
