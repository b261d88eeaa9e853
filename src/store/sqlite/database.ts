import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreConflictError, StoreUnavailableError } from '../store.js';
import { migrate } from './migrations.js';
import { noTelemetry, type Telemetry } from '../../telemetry/telemetry.js';

export const DATABASE_FILE = 'confab.db';

/**
 * Opens (creating if needed) the database in a data directory with the durability settings
 * Confab relies on, checks that SQLite accepted them, and brings the schema up to date.
 */
export function openDatabase(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before it is acknowledged, even across a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const mode = db.pragma('journal_mode', { simple: true });
    const sync = db.pragma('synchronous', { simple: true });
    if (mode !== 'wal' || sync !== 2)
      throw new Error(`SQLite refused WAL/synchronous=FULL (got ${String(mode)}/${String(sync)})`);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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

interface PendingWrite {
  readonly run: () => unknown;
  readonly resolve: (value: never) => void;
  readonly reject: (error: Error) => void;
}

/** Runs one statement, with the driver's errors mapped onto the store's (`translateError`). */
export function runStatement(
  db: Database.Database,
  sql: string,
  ...params: unknown[]
): Database.RunResult {
  try {
    return prepared(db, sql).run(...params);
  } catch (error) {
    throw translateError(error);
  }
}

/** How long a write nobody waits on (a login's address) may wait for company. */
export const LAZY_WRITE_MS = 250;

/**
 * Group commit: writes queued during one tick of the event loop share one transaction,
 * so a burst of messages costs one fsync rather than one each. If the shared transaction
 * fails, each write is retried alone so one bad write cannot fail its neighbours.
 * Bookkeeping that nothing is acknowledged on (`enqueueLazy`) rides with the next commit,
 * or goes after LAZY_WRITE_MS: at a thousand logins a second, a commit each would spend
 * the event loop on fsync.
 */
export class WriteBatcher {
  private queue: PendingWrite[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;

  /** Where commits are reported (`Store.instrument`). */
  telemetry: Telemetry = noTelemetry;

  constructor(private readonly db: Database.Database) {}

  enqueue<T>(run: () => T): Promise<T> {
    const done = this.push(run);
    this.scheduled ??= setImmediate(() => this.flush());
    return done;
  }

  enqueueLazy<T>(run: () => T): Promise<T> {
    const done = this.push(run);
    this.lazyTimer ??= setTimeout(() => this.flush(), LAZY_WRITE_MS);
    return done;
  }

  private push<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: never) => void, reject });
    });
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.scheduled = undefined;
    this.lazyTimer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: unknown[];
    const started = performance.now();
    try {
      results = this.db.transaction(() => batch.map((write) => write.run()))();
    } catch {
      for (const write of batch) this.runAlone(write);
      return;
    }
    this.telemetry.storeCommitted((performance.now() - started) / 1000, batch.length);
    batch.forEach((write, index) => write.resolve(results[index] as never));
  }

  private runAlone(write: PendingWrite): void {
    try {
      write.resolve(this.db.transaction(write.run)() as never);
    } catch (error) {
      write.reject(translateError(error));
    }
  }
}
