import type Database from 'better-sqlite3';
import type {
  FileGoneReason,
  FileParty,
  FileStore,
  FileTombstone,
  NewFile,
  StoredFile,
} from '../store.js';
import { type FileRow, type TombstoneRow, toFile, toTombstone } from '../rows.js';
import { translateError, prepared, runStatement } from './database.js';

/** `column_account = ?` or `column_session = ?`, whichever the party is. */
function partyClause(column: 'sender' | 'recipient', who: FileParty): [string, number | string] {
  return who.kind === 'account'
    ? [`${column}_account = ?`, who.accountId]
    : [`${column}_session = ?`, who.sessionId];
}

export class SqliteFileStore implements FileStore {
  constructor(private readonly db: Database.Database) {}

  async create(file: NewFile): Promise<StoredFile> {
    const sender = file.senderParty;
    const recipient = file.recipient?.party;
    const { lastInsertRowid } = runStatement(
      this.db,
      `INSERT INTO files (storage_name, name, size, sha256, state, sender, sender_account,
         sender_session, sender_address, recipient, recipient_account, recipient_session,
         created_at)
       VALUES (?, ?, ?, ?, 'uploading', ?, ?, ?, ?, ?, ?, ?, ?)`,
      file.storageName,
      file.name,
      file.size,
      file.sha256,
      file.sender,
      sender.kind === 'account' ? sender.accountId : null,
      sender.kind === 'guest' ? sender.sessionId : null,
      file.senderAddress,
      file.recipient?.nick ?? null,
      recipient?.kind === 'account' ? recipient.accountId : null,
      recipient?.kind === 'guest' ? recipient.sessionId : null,
      file.createdAt,
    );
    return { ...file, id: Number(lastInsertRowid), state: 'uploading' };
  }

  async markReady(id: number): Promise<void> {
    runStatement(this.db, `UPDATE files SET state = 'ready' WHERE id = ?`, id);
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

  async delete(id: number): Promise<void> {
    runStatement(this.db, 'DELETE FROM files WHERE id = ?', id);
  }

  async retire(file: StoredFile, reason: FileGoneReason, at: number): Promise<void> {
    try {
      this.db.transaction(() => {
        prepared(this.db, 'DELETE FROM files WHERE id = ?').run(file.id);
        // recipient '' marks a shared file.
        if (file.senderParty.kind === 'account')
          prepared(
            this.db,
            `INSERT INTO file_tombstones (sender_account, file_id, name, recipient, reason, at)
               VALUES (?, ?, ?, ?, ?, ?)`,
          ).run(
            file.senderParty.accountId,
            file.id,
            file.name,
            file.recipient?.nick ?? '',
            reason,
            at,
          );
      })();
    } catch (error) {
      throw translateError(error);
    }
  }

  async takeTombstones(accountId: number): Promise<FileTombstone[]> {
    try {
      return this.db.transaction(() => {
        const rows = prepared(
          this.db,
          'SELECT * FROM file_tombstones WHERE sender_account = ? ORDER BY id',
        ).all(accountId) as TombstoneRow[];
        prepared(this.db, 'DELETE FROM file_tombstones WHERE sender_account = ?').run(accountId);
        return rows.map(toTombstone);
      })();
    } catch (error) {
      throw translateError(error);
    }
  }

  async forgetGuest(sessionId: string): Promise<StoredFile[]> {
    try {
      return this.db.transaction(() => {
        const rows = prepared(this.db, 'SELECT * FROM files WHERE recipient_session = ?').all(
          sessionId,
        ) as FileRow[];
        prepared(this.db, 'DELETE FROM files WHERE recipient_session = ?').run(sessionId);
        prepared(this.db, 'UPDATE files SET sender_session = NULL WHERE sender_session = ?').run(
          sessionId,
        );
        return rows.map(toFile);
      })();
    } catch (error) {
      throw translateError(error);
    }
  }

  async recoverAfterRestart(): Promise<StoredFile[]> {
    try {
      return this.db.transaction(() => {
        const where = `state = 'uploading' OR recipient_session IS NOT NULL`;
        const rows = prepared(this.db, `SELECT * FROM files WHERE ${where}`).all() as FileRow[];
        prepared(this.db, `DELETE FROM files WHERE ${where}`).run();
        prepared(this.db, 'UPDATE files SET sender_session = NULL').run();
        return rows.map(toFile);
      })();
    } catch (error) {
      throw translateError(error);
    }
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
