import type Database from 'better-sqlite3';
import { StoreUnavailableError, type Store } from '../store.js';
import { SqliteAccountStore } from './accounts.js';
import { openDatabase, WriteBatcher } from './database.js';
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
  private readonly batcher: WriteBatcher;
  private closed = false;

  private constructor(readonly db: Database.Database) {
    this.batcher = new WriteBatcher(db);
    this.messages = new SqliteMessageStore(db, this.batcher);
    this.accounts = new SqliteAccountStore(db, this.batcher);
    this.rooms = new SqliteRoomStore(db);
    this.blocks = new SqliteBlockStore(db);
    this.inbox = new SqliteInboxStore(db);
    this.presence = new SqlitePresenceStore(db);
    this.files = new SqliteFileStore(db);
    this.moderation = new SqliteModerationStore(db, this.batcher);
    this.settings = new SqliteSettingsStore(db);
    this.audit = new SqliteAuditStore(db);
    this.cases = new SqliteCaseStore(db);
    this.loginGuard = new SqliteLoginGuardStore(db, this.batcher);
  }

  static open(dataDir: string): SqliteStore {
    return new SqliteStore(openDatabase(dataDir));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('The store is closed');
    this.db.prepare('SELECT 1').get();
  }

  instrument(telemetry: Telemetry): void {
    this.batcher.telemetry = telemetry;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batcher.flush();
    this.db.close();
  }
}
