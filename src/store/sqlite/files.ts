import type Database from 'better-sqlite3';
import type {
  FileGoneReason,
  FileParty,
  FileStore,
  FileTombstone,
  NewFile,
  StoredFile,
} from '../store.js';
import { type FileRow, toFile } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

/** `column_account = ?` or `column_guest = ?`, whichever the party is. */
function partyClause(column: 'sender' | 'recipient', who: FileParty): [string, number | string] {
  return who.kind === 'account'
    ? [`${column}_account = ?`, who.accountId]
    : [`${column}_guest = ?`, who.guest];
}

export class SqliteFileStore implements FileStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  create(file: NewFile): Promise<StoredFile> {
    return this.writer.write('files.create', [file], (id) => ({
      ...file,
      id,
      state: 'uploading' as const,
    }));
  }

  markReady(id: number): Promise<void> {
    return this.writer.write('files.markReady', [id]);
  }

  async get(id: number): Promise<StoredFile | undefined> {
    const row = prepared(this.db, 'SELECT * FROM files WHERE id = ?').get(id) as
      FileRow | undefined;
    return row && toFile(row);
  }

  async waitingFor(who: FileParty): Promise<StoredFile[]> {
    const [clause, value] = partyClause('recipient', who);
    return this.select(`state = 'ready' AND ${clause}`, value);
  }

  async sentBy(who: FileParty): Promise<StoredFile[]> {
    const [clause, value] = partyClause('sender', who);
    return this.select(`state = 'ready' AND recipient IS NOT NULL AND ${clause}`, value);
  }

  async shared(): Promise<StoredFile[]> {
    return this.select(`state = 'ready' AND recipient IS NULL`);
  }

  async usedBytes(who: FileParty): Promise<number> {
    const [clause, value] = partyClause('sender', who);
    const row = prepared(
      this.db,
      `SELECT coalesce(sum(size), 0) AS n FROM files WHERE ${clause}`,
    ).get(value) as { n: number };
    return row.n;
  }

  async guestBytesFrom(address: string): Promise<number> {
    const row = prepared(
      this.db,
      `SELECT coalesce(sum(size), 0) AS n FROM files
       WHERE sender_address = ? AND sender_account IS NULL`,
    ).get(address) as { n: number };
    return row.n;
  }

  async totalBytes(): Promise<number> {
    const row = prepared(this.db, 'SELECT coalesce(sum(size), 0) AS n FROM files').get() as {
      n: number;
    };
    return row.n;
  }

  async createdBefore(ts: number): Promise<StoredFile[]> {
    return this.select(`state = 'ready' AND created_at < ?`, ts);
  }

  delete(id: number): Promise<void> {
    return this.writer.write('files.delete', [id]);
  }

  retire(file: StoredFile, reason: FileGoneReason, at: number): Promise<void> {
    return this.writer.write('files.retire', [file, reason, at]);
  }

  takeTombstones(accountId: number): Promise<FileTombstone[]> {
    return this.writer.write('files.takeTombstones', [accountId]);
  }

  forgetGuest(guest: string): Promise<StoredFile[]> {
    return this.writer.write('files.forgetGuest', [guest]);
  }

  recoverAfterRestart(node: string): Promise<StoredFile[]> {
    return this.writer.write('files.recoverAfterRestart', [node]);
  }

  releaseNodes(live: readonly string[], uploadsBefore: number): Promise<StoredFile[]> {
    return this.writer.write('files.releaseNodes', [[...live], uploadsBefore]);
  }

  async storageNames(): Promise<Set<string>> {
    const rows = prepared(this.db, 'SELECT storage_name FROM files').all() as {
      storage_name: string;
    }[];
    return new Set(rows.map((row) => row.storage_name));
  }

  private select(where: string, ...params: unknown[]): StoredFile[] {
    const rows = prepared(this.db, `SELECT * FROM files WHERE ${where} ORDER BY id`).all(
      ...params,
    ) as FileRow[];
    return rows.map(toFile);
  }
}
