import type {
  FileGoneReason,
  FileParty,
  FileStore,
  FileTombstone,
  NewFile,
  StoredFile,
} from '../store.js';
import { type FileRow, type TombstoneRow, toFile, toTombstone } from '../rows.js';
import { guarded, type Sql } from './database.js';

/** File metadata; the bytes live in a `BlobStore`. */
export class PostgresFileStore implements FileStore {
  constructor(private readonly sql: Sql) {}

  /** `column_account = x` or `column_guest = x`, whichever the party is. */
  private partyIs(column: 'sender' | 'recipient', who: FileParty) {
    const sql = this.sql;
    return who.kind === 'account'
      ? sql`${sql(`${column}_account`)} = ${who.accountId}`
      : sql`${sql(`${column}_guest`)} = ${who.guest}`;
  }

  async create(file: NewFile): Promise<StoredFile> {
    const sender = file.senderParty;
    const recipient = file.recipient?.party;
    const [row] = await guarded(
      () => this.sql<{ id: number }[]>`
        INSERT INTO files (storage_name, name, size, sha256, state, sender, sender_account,
                           sender_guest, sender_address, recipient, recipient_account,
                           recipient_guest, created_at, node, recipient_node)
        VALUES (${file.storageName}, ${file.name}, ${file.size}, ${file.sha256}, 'uploading',
                ${file.sender}, ${sender.kind === 'account' ? sender.accountId : null},
                ${sender.kind === 'guest' ? sender.guest : null}, ${file.senderAddress},
                ${file.recipient?.nick ?? null},
                ${recipient?.kind === 'account' ? recipient.accountId : null},
                ${recipient?.kind === 'guest' ? recipient.guest : null}, ${file.createdAt},
                ${file.node}, ${recipient?.kind === 'guest' ? file.recipientNode : null})
        RETURNING id`,
    );
    return { ...file, id: row!.id, state: 'uploading' };
  }

  async markReady(id: number): Promise<void> {
    await guarded(() => this.sql`UPDATE files SET state = 'ready' WHERE id = ${id}`);
  }

  async get(id: number): Promise<StoredFile | undefined> {
    const [row] = await guarded(() => this.sql<FileRow[]>`SELECT * FROM files WHERE id = ${id}`);
    return row && toFile(row);
  }

  async waitingFor(who: FileParty): Promise<StoredFile[]> {
    return this.select(this.sql`state = 'ready' AND ${this.partyIs('recipient', who)}`);
  }

  async sentBy(who: FileParty): Promise<StoredFile[]> {
    return this.select(
      this.sql`state = 'ready' AND recipient IS NOT NULL AND ${this.partyIs('sender', who)}`,
    );
  }

  async shared(): Promise<StoredFile[]> {
    return this.select(this.sql`state = 'ready' AND recipient IS NULL`);
  }

  async usedBytes(who: FileParty): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`
        SELECT coalesce(sum(size), 0)::bigint AS n FROM files WHERE ${this.partyIs('sender', who)}`,
    );
    return row?.n ?? 0;
  }

  async guestBytesFrom(address: string): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`
        SELECT coalesce(sum(size), 0)::bigint AS n FROM files
        WHERE sender_address = ${address} AND sender_account IS NULL`,
    );
    return Number(row?.n ?? 0);
  }

  async totalBytes(): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`SELECT coalesce(sum(size), 0)::bigint AS n FROM files`,
    );
    return Number(row?.n ?? 0);
  }

  async createdBefore(ts: number): Promise<StoredFile[]> {
    return this.select(this.sql`state = 'ready' AND created_at < ${ts}`);
  }

  async delete(id: number): Promise<void> {
    await guarded(() => this.sql`DELETE FROM files WHERE id = ${id}`);
  }

  async retire(file: StoredFile, reason: FileGoneReason, at: number): Promise<void> {
    await guarded(() =>
      this.sql.begin(async (tx) => {
        await tx`DELETE FROM files WHERE id = ${file.id}`;
        // recipient '' marks a shared file.
        if (file.senderParty.kind === 'account')
          await tx`
            INSERT INTO file_tombstones (sender_account, file_id, name, recipient, reason, at)
            VALUES (${file.senderParty.accountId}, ${file.id}, ${file.name},
                    ${file.recipient?.nick ?? ''}, ${reason}, ${at})`;
      }),
    );
  }

  async takeTombstones(accountId: number): Promise<FileTombstone[]> {
    const rows = await guarded(
      () => this.sql<(TombstoneRow & { id: number })[]>`
        DELETE FROM file_tombstones WHERE sender_account = ${accountId}
        RETURNING id, file_id, name, recipient, reason, at`,
    );
    return rows.sort((a, b) => a.id - b.id).map(toTombstone);
  }

  async forgetGuest(guest: string): Promise<StoredFile[]> {
    const rows = await guarded(() =>
      this.sql.begin(async (tx) => {
        const removed = await tx<FileRow[]>`
          DELETE FROM files WHERE recipient_guest = ${guest} RETURNING *`;
        await tx`UPDATE files SET sender_guest = NULL WHERE sender_guest = ${guest}`;
        return [...removed];
      }),
    );
    return (rows as FileRow[]).sort((a, b) => a.id - b.id).map(toFile);
  }

  async recoverAfterRestart(node: string): Promise<StoredFile[]> {
    const mine = [node, ''];
    const rows = await guarded(() =>
      this.sql.begin(async (tx) => {
        const removed = await tx<FileRow[]>`
          DELETE FROM files
           WHERE (state = 'uploading' AND node = ANY(${mine}::text[]))
              OR (recipient_guest IS NOT NULL
                  AND coalesce(recipient_node, '') = ANY(${mine}::text[]))
          RETURNING *`;
        await tx`
          UPDATE files SET sender_guest = NULL
           WHERE sender_guest IS NOT NULL AND node = ANY(${mine}::text[])`;
        return [...removed];
      }),
    );
    return (rows as FileRow[]).sort((a, b) => a.id - b.id).map(toFile);
  }

  async releaseNodes(live: readonly string[], uploadsBefore: number): Promise<StoredFile[]> {
    const alive = [...live];
    const rows = await guarded(() =>
      this.sql.begin(async (tx) => {
        const removed = await tx<FileRow[]>`
          DELETE FROM files
           WHERE (state = 'uploading' AND created_at < ${uploadsBefore}
                  AND node <> ALL(${alive}::text[]))
              OR (recipient_guest IS NOT NULL
                  AND coalesce(recipient_node, '') <> ALL(${alive}::text[]))
          RETURNING *`;
        await tx`
          UPDATE files SET sender_guest = NULL
           WHERE sender_guest IS NOT NULL AND node <> ALL(${alive}::text[])`;
        return [...removed];
      }),
    );
    return (rows as FileRow[]).sort((a, b) => a.id - b.id).map(toFile);
  }

  async storageNames(): Promise<Set<string>> {
    const rows = await guarded(
      () => this.sql<{ storage_name: string }[]>`SELECT storage_name FROM files`,
    );
    return new Set(rows.map((row) => row.storage_name));
  }

  private async select(where: ReturnType<Sql>): Promise<StoredFile[]> {
    const rows = await guarded(
      () => this.sql<FileRow[]>`SELECT * FROM files WHERE ${where} ORDER BY id`,
    );
    return rows.map(toFile);
  }
}
