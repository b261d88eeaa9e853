import type { Telemetry } from '../../telemetry/telemetry.js';
import { PostgresIdBlockStore } from './id-blocks.js';
import { StoreUnavailableError, type Store } from '../store.js';
import { PostgresAccountStore } from './accounts.js';
import { PostgresAuditStore } from './audit.js';
import { PostgresBlobStore } from './blobs.js';
import { PostgresBlockStore } from './blocks.js';
import { PostgresCaseStore } from './cases.js';
import {
  openPool,
  parsePostgresUrl,
  translateError,
  type PostgresOptions,
  type Sql,
  guarded,
} from './database.js';
import { PostgresFileStore } from './files.js';
import { PostgresInboxStore } from './inbox.js';
import { PostgresLoginGuardStore } from './login-guard.js';
import { PostgresMessageStore } from './messages.js';
import { migrate } from './migrations.js';
import { PostgresModerationStore } from './moderation.js';
import { PostgresPresenceStore } from './presence.js';
import { PostgresRoomStore } from './rooms.js';
import { PostgresSettingsStore } from './settings.js';

/**
 * The cluster store: every node of a cluster opens one on the same database. It holds no
 * state of its own that another node would need (caches live in the core and are kept
 * fresh by the bus's invalidations), so nodes can come and go.
 */
export class PostgresStore implements Store {
  readonly messages: PostgresMessageStore;
  readonly accounts: PostgresAccountStore;
  readonly rooms: PostgresRoomStore;
  readonly blocks: PostgresBlockStore;
  readonly inbox: PostgresInboxStore;
  readonly presence: PostgresPresenceStore;
  readonly files: PostgresFileStore;
  readonly moderation: PostgresModerationStore;
  readonly settings: PostgresSettingsStore;
  readonly audit: PostgresAuditStore;
  readonly cases: PostgresCaseStore;
  readonly loginGuard: PostgresLoginGuardStore;
  readonly idBlocks: PostgresIdBlockStore;
  /** File bytes in the database, so any node serves a file any node took. */
  readonly blobs: PostgresBlobStore;
  private closed = false;

  private constructor(
    readonly sql: Sql,
    readonly schema: string,
  ) {
    this.messages = new PostgresMessageStore(sql);
    this.accounts = new PostgresAccountStore(sql);
    this.rooms = new PostgresRoomStore(sql);
    this.blocks = new PostgresBlockStore(sql);
    this.inbox = new PostgresInboxStore(sql);
    this.presence = new PostgresPresenceStore(sql);
    this.files = new PostgresFileStore(sql);
    this.moderation = new PostgresModerationStore(sql);
    this.settings = new PostgresSettingsStore(sql);
    this.audit = new PostgresAuditStore(sql);
    this.cases = new PostgresCaseStore(sql);
    this.loginGuard = new PostgresLoginGuardStore(sql);
    this.idBlocks = new PostgresIdBlockStore(sql);
    this.blobs = new PostgresBlobStore(sql);
  }

  /**
   * Connects and brings the schema up to date (under an advisory lock, so nodes starting
   * together migrate once). Rejects when the database cannot be reached.
   */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const parsed = parsePostgresUrl(url, options.schema);
    const sql = openPool(parsed.url, parsed.schema, options);
    try {
      await migrate(sql, parsed.schema);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw translateError(error);
    }
    return new PostgresStore(sql, parsed.schema);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('The store is closed');
    await guarded(() => this.sql`SELECT 1`);
  }

  instrument(telemetry: Telemetry): void {
    this.messages.telemetry = telemetry;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.messages.drain();
    await this.sql.end({ timeout: 5 });
  }
}
