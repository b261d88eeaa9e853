import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, statfs, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where the bytes of transferred files live: one directory (`<dataDir>/files`), each file
 * under a generated name. Client-supplied names never reach this layer, so nothing a
 * client sends can name a path. Metadata lives in the `FileStore`.
 */
export interface BlobStore {
  /** A fresh random storage name (128 bits, hex). */
  newName(): string;
  /** Starts writing a blob under a temporary name; it appears under `name` on `commit`. */
  create(name: string): Promise<BlobWriter>;
  open(name: string): Promise<BlobReader>;
  remove(name: string): Promise<void>;
  /** Storage names present (committed or temporary), to clean up orphans at start. */
  list(): Promise<string[]>;
  /** Bytes free for new blobs (what an unprivileged writer may use), if the store knows. */
  freeBytes(): Promise<number | undefined>;
}

export interface BlobWriter {
  /** Bytes written so far. */
  readonly size: number;
  write(data: Uint8Array): Promise<void>;
  /** Flushes to disk (fsync), then renames the blob into place. */
  commit(): Promise<void>;
  /** Closes and deletes the partial blob. Safe to call more than once. */
  abort(): Promise<void>;
}

export interface BlobReader {
  /** Reads up to `length` bytes at `offset`; a short result means the end of the blob. */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

const PART_SUFFIX = '.part';
/**
 * A blob being written is flushed to disk (off the event loop) every this many bytes. Left
 * to pile up, a large upload's dirty pages are flushed by whatever syncs next: on a
 * journalled file system that is SQLite's commit, which runs on the event loop, and chat
 * stalled for a quarter of a second behind a 256 MiB upload.
 */
export const BLOB_SYNC_BYTES = 4 * 1024 * 1024;
const STORAGE_NAME = /^[0-9a-f]{32}$/;

export class DiskBlobStore implements BlobStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  newName(): string {
    return randomBytes(16).toString('hex');
  }

  async create(name: string): Promise<BlobWriter> {
    const temp = this.pathOf(name) + PART_SUFFIX;
    // 'wx': a generated name never exists; refusing to reuse one is the safe failure.
    const handle = await open(temp, 'wx');
    return new DiskBlobWriter(handle, temp, this.pathOf(name), this.dir);
  }

  async open(name: string): Promise<BlobReader> {
    const handle = await open(this.pathOf(name), 'r');
    return {
      async read(offset, length) {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
      },
      close: () => handle.close(),
    };
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
    await rm(this.pathOf(name) + PART_SUFFIX, { force: true });
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.dir);
    const names = new Set<string>();
    for (const entry of entries) {
      const name = entry.endsWith(PART_SUFFIX) ? entry.slice(0, -PART_SUFFIX.length) : entry;
      if (STORAGE_NAME.test(name)) names.add(name);
    }
    return [...names];
  }

  async freeBytes(): Promise<number | undefined> {
    const stats = await statfs(this.dir).catch(() => undefined);
    return stats && stats.bavail * stats.bsize;
  }

  private pathOf(name: string): string {
    // Storage names are generated here; checking anyway keeps a bug from becoming a path.
    if (!STORAGE_NAME.test(name)) throw new Error(`Not a storage name: ${name}`);
    return path.join(this.dir, name);
  }
}

class DiskBlobWriter implements BlobWriter {
  size = 0;
  private done = false;
  private unsynced = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly final: string,
    private readonly dir: string,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.size += data.length;
    this.unsynced += data.length;
    if (this.unsynced >= BLOB_SYNC_BYTES) {
      this.unsynced = 0;
      await this.handle.datasync();
    }
  }

  async commit(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
    this.done = true;
    await rename(this.temp, this.final);
    await syncDirectory(this.dir);
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.temp, { force: true });
  }
}

/** Makes a rename durable on POSIX; Windows cannot open directories, and needs no sync. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
