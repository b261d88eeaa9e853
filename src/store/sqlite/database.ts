import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreConflictError, StoreUnavailableError } from '../store.js';
import { migrate } from './migrations.js';

export const DATABASE_FILE = 'confab.db';

/**
 * Opens (creating if needed) the database in a data directory with the durability settings
 * Confab relies on, checks that SQLite accepted them, and brings the schema up to date.
 */
export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  try {
    configureConnection(db);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The settings every connection to the database gets (the main thread's, which reads and
 * migrates, and the writer thread's), checked: a connection SQLite would not put in WAL
 * with synchronous=FULL is refused rather than run with weaker durability.
 */
export function configureConnection(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before it is acknowledged, even across a power cut.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const mode = db.pragma('journal_mode', { simple: true });
  const sync = db.pragma('synchronous', { simple: true });
  if (mode !== 'wal' || sync !== 2)
    throw new Error(`SQLite refused WAL/synchronous=FULL (got ${String(mode)}/${String(sync)})`);
}

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * The database's prepared statement for `sql`, compiled on first use: preparing costs
 * more than running a simple statement, and some run at every login.
 */
export function prepared(db: Database.Database, sql: string): Database.Statement {
  let statements = statementCache.get(db);
  if (!statements) statementCache.set(db, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement;
}

/** Maps a driver error onto the store's error types, so callers never see SQLite codes. */
export function translateError(error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return new StoreConflictError((error as Error).message);
    if (/^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB)/.test(code))
      return new StoreUnavailableError((error as Error).message, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
