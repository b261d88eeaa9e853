import { randomBytes } from 'node:crypto';
import type { BlobReader, BlobStore, BlobWriter } from '../blobs.js';
import { guarded, type Sql } from './database.js';

/**
 * Bytes go to the database in chunks of this size: each is one INSERT and one commit, so
 * larger chunks mean fewer WAL flushes (64 MiB went in at 13 MiB/s in 256 KiB chunks and
 * 19–22 MiB/s in 1 MiB ones, loaded machine). A download reads 48 KiB at a time from the
 * chunk it fetched last, so each chunk is fetched once.
 */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/**
 * File bytes in PostgreSQL, for a cluster: every node reads what any node wrote, with no
 * shared file system to mount. A blob is a `blobs` row and its `blob_chunks`; it is listed
 * while written (so orphan sweeps see it) but opens only once committed (`ready`).
 */
export class PostgresBlobStore implements BlobStore {
  constructor(private readonly sql: Sql) {}

  newName(): string {
    return randomBytes(16).toString('hex');
  }

  async create(name: string): Promise<BlobWriter> {
    // A name is generated and never reused: a conflict here is a bug, refused.
    await guarded(
      () => this.sql`
        INSERT INTO blobs (name, state, size, created_at) VALUES (${name}, 'writing', 0, ${Date.now()})`,
    );
    return new PostgresBlobWriter(this.sql, name);
  }

  async open(name: string): Promise<BlobReader> {
    const [row] = await guarded(
      () => this.sql<{ size: number }[]>`
        SELECT size FROM blobs WHERE name = ${name} AND state = 'ready'`,
    );
    if (!row) throw Object.assign(new Error(`No blob ${name}`), { code: 'ENOENT' });
    return new PostgresBlobReader(this.sql, name, row.size);
  }

  async remove(name: string): Promise<void> {
    // Chunks go with it (ON DELETE CASCADE).
    await guarded(() => this.sql`DELETE FROM blobs WHERE name = ${name}`);
  }

  async list(): Promise<string[]> {
    const rows = await guarded(() => this.sql<{ name: string }[]>`SELECT name FROM blobs`);
    return rows.map((row) => row.name);
  }

  /** The database's free space is not ours to know; `files.totalBytes` bounds what we store. */
  async freeBytes(): Promise<number | undefined> {
    return undefined;
  }
}

class PostgresBlobWriter implements BlobWriter {
  size = 0;
  /** Bytes not yet sent to the database: less than one chunk between writes. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextSeq = 0;
  private done = false;
  /**
   * The chunk being inserted: the next one fills while it travels, so the upload waits for
   * the database only when a second chunk is ready before the first is in.
   */
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly name: string,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    if (this.done) throw new Error('The blob is closed');
    this.pending.push(Buffer.from(data));
    this.pendingBytes += data.length;
    this.size += data.length;
    while (this.pendingBytes >= BLOB_CHUNK_BYTES) {
      await this.inFlight;
      this.inFlight = this.flush(BLOB_CHUNK_BYTES);
      // A failure surfaces at the next write or the commit; until then nobody listens.
      this.inFlight.catch(() => undefined);
    }
  }

  async commit(): Promise<void> {
    await this.inFlight;
    if (this.pendingBytes > 0) await this.flush(this.pendingBytes);
    this.done = true;
    // Only a blob still being written turns ready: removed meanwhile, the upload fails.
    const result = await guarded(
      () => this.sql`
        UPDATE blobs SET state = 'ready', size = ${this.size}
         WHERE name = ${this.name} AND state = 'writing'`,
    );
    if (result.count !== 1) throw new Error(`Blob ${this.name} was removed while written`);
  }

  async abort(): Promise<void> {
    this.done = true;
    this.pending = [];
    this.pendingBytes = 0;
    await this.inFlight.catch(() => undefined);
    await guarded(() => this.sql`DELETE FROM blobs WHERE name = ${this.name}`);
  }

  /** Sends the first `bytes` pending bytes as the next chunk (taken from `pending` at once). */
  private async flush(bytes: number): Promise<void> {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const chunk = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    const seq = this.nextSeq++;
    // A chunk for a removed blob fails on the foreign key: the upload fails, nothing is left.
    await guarded(
      () =>
        this.sql`INSERT INTO blob_chunks (name, seq, data) VALUES (${this.name}, ${seq}, ${chunk})`,
    );
  }
}

class PostgresBlobReader implements BlobReader {
  /** The last chunk fetched: a download reads one chunk in several steps. */
  private cached: { seq: number; data: Buffer } | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly name: string,
    private readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(offset + length, this.size);
    if (offset >= end) return Buffer.alloc(0);
    const first = Math.floor(offset / BLOB_CHUNK_BYTES);
    const last = Math.floor((end - 1) / BLOB_CHUNK_BYTES);
    const chunks = new Map<number, Buffer>();
    if (this.cached && this.cached.seq >= first && this.cached.seq <= last)
      chunks.set(this.cached.seq, this.cached.data);
    const from = chunks.has(first) ? first + 1 : first;
    if (from <= last) {
      const rows = await guarded(
        () => this.sql<{ seq: number; data: Buffer }[]>`
          SELECT seq, data FROM blob_chunks
           WHERE name = ${this.name} AND seq BETWEEN ${from} AND ${last}
           ORDER BY seq`,
      );
      for (const row of rows) chunks.set(row.seq, row.data);
    }
    const parts: Buffer[] = [];
    for (let seq = first; seq <= last; seq++) {
      const data = chunks.get(seq);
      if (!data) throw new Error(`Blob ${this.name} lost chunk ${seq}`);
      const start = seq === first ? offset - seq * BLOB_CHUNK_BYTES : 0;
      const stop = seq === last ? end - seq * BLOB_CHUNK_BYTES : data.length;
      parts.push(data.subarray(start, stop));
    }
    const lastData = chunks.get(last)!;
    this.cached = { seq: last, data: lastData };
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async close(): Promise<void> {
    this.cached = undefined;
  }
}
