import type Database from 'better-sqlite3';
import { SqliteIdBlockStore } from './id-blocks.js';
import { StoreUnavailableError, type Store } from '../store.js';
import { SqliteAccountStore } from './accounts.js';
import { openDatabase } from './database.js';
import { SqliteWriter } from './writer.js';
import { SqliteBlockStore } from './blocks.js';
import { SqliteInboxStore } from './inbox.js';
import { SqliteFileStore } from './files.js';
import { SqliteLoginGuardStore } from './login-guard.js';
import { SqliteMessageStore } from './messages.js';
import { SqlitePresenceStore } from './presence.js';
import { SqliteRoomStore } from './rooms.js';
import { SqliteAuditStore } from './audit.js';
import { SqliteCaseStore } from './cases.js';
import { SqliteModerationStore } from './moderation.js';
import { SqliteSettingsStore } from './settings.js';
import type { Telemetry } from '../../telemetry/telemetry.js';

/** The embedded default store: one SQLite file in the data directory. */
export class SqliteStore implements Store {
  readonly messages: SqliteMessageStore;
  readonly accounts: SqliteAccountStore;
  readonly rooms: SqliteRoomStore;
  readonly blocks: SqliteBlockStore;
  readonly inbox: SqliteInboxStore;
  readonly presence: SqlitePresenceStore;
  readonly files: SqliteFileStore;
  readonly moderation: SqliteModerationStore;
  readonly settings: SqliteSettingsStore;
  readonly audit: SqliteAuditStore;
  readonly cases: SqliteCaseStore;
  readonly loginGuard: SqliteLoginGuardStore;
  readonly idBlocks: SqliteIdBlockStore;
  private readonly writer: SqliteWriter;
  private closed = false;

  /**
   * `db` is the main thread's connection: it migrates the schema at open and serves every
   * read (WAL: readers see the last commit and never wait for the writer). Every write goes
   * to the writer thread's own connection (`SqliteWriter`), so no statement that writes,
   * no commit and no fsync runs on the event loop.
   */
  private constructor(readonly db: Database.Database) {
    const writer = (this.writer = new SqliteWriter(db.name));
    this.messages = new SqliteMessageStore(db, writer);
    this.accounts = new SqliteAccountStore(db, writer);
    this.rooms = new SqliteRoomStore(db, writer);
    this.blocks = new SqliteBlockStore(db, writer);
    this.inbox = new SqliteInboxStore(db, writer);
    this.presence = new SqlitePresenceStore(db);
    this.files = new SqliteFileStore(db, writer);
    this.moderation = new SqliteModerationStore(db, writer);
    this.settings = new SqliteSettingsStore(db, writer);
    this.audit = new SqliteAuditStore(db, writer);
    this.cases = new SqliteCaseStore(db, writer);
    this.loginGuard = new SqliteLoginGuardStore(db, writer);
    this.idBlocks = new SqliteIdBlockStore(writer);
  }

  static open(dataDir: string): SqliteStore {
    return new SqliteStore(openDatabase(dataDir));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('The store is closed');
    const failure = this.writer.failure;
    if (failure) throw new StoreUnavailableError(`The SQLite writer failed: ${failure.message}`);
    this.db.prepare('SELECT 1').get();
  }

  instrument(telemetry: Telemetry): void {
    this.writer.telemetry = telemetry;
  }

  /**
   * Runs a pragma on the writer thread's connection, after the writes queued before it:
   * tests simulate a full disk (`max_page_count`) or a read-only file (`query_only`) there,
   * where writes happen.
   */
  writerPragma(text: string): Promise<unknown> {
    return this.writer.pragma(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    this.db.close();
  }
}
