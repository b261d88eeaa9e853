import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DATABASE_FILE } from './database.js';

/**
 * Writes a consistent copy of a data directory's database into `outDir` (a new data
 * directory `confab serve --data` can start from), using SQLite's online backup: the server
 * may keep writing meanwhile, and the copy is one committed state of the database.
 */
export async function backupDatabase(
  dataDir: string,
  outDir: string,
): Promise<{ file: string; pages: number }> {
  const source = path.join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new Error(`No Confab database in ${dataDir}`);
  if (existsSync(outDir) && readdirSync(outDir).length > 0)
    throw new Error(`${outDir} is not empty: back up into a new directory`);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, DATABASE_FILE);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // One step for the whole file: a step reads under one snapshot, so writers going on
    // meanwhile cannot make the backup restart again and again.
    const { totalPages } = await db.backup(file, { progress: () => 1 << 30 });
    const copy = new Database(file);
    try {
      // The copy stands alone: no WAL beside it, so it can be moved as one file.
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`The copy failed its integrity check: ${String(check)}`);
    } finally {
      copy.close();
    }
    return { file, pages: totalPages };
  } finally {
    db.close();
  }
}
