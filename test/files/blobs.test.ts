import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOB_SYNC_BYTES, DiskBlobStore, type BlobStore } from '../../src/store/blobs.js';
import { openTestPostgresStore } from '../helpers/postgres.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('disk blobs', () => {
  it('keep every byte of a blob written across its periodic flushes, in order', async () => {
    const dir = tempDir('blobs');
    dirs.push(dir);
    const store = new DiskBlobStore(dir);
    const name = store.newName();
    const writer = await store.create(name);
    // Odd-sized chunks, so flush points fall inside chunks' ends, past two flushes.
    const content = randomBytes(Math.floor(BLOB_SYNC_BYTES * 2.5));
    const chunk = 48 * 1024 + 7;
    for (let offset = 0; offset < content.length; offset += chunk)
      await writer.write(content.subarray(offset, offset + chunk));
    expect(writer.size).toBe(content.length);
    await writer.commit();
    expect(await store.list()).toEqual([name]);
    const reader = await store.open(name);
    const back = await reader.read(0, content.length + 1);
    await reader.close();
    expect(back.equals(content)).toBe(true);
  });
});

/**
 * What every blob backend promises the file service, run on the files folder (the embedded
 * default) and on PostgreSQL (the cluster's shared bytes).
 */
function describeBlobContract(
  backend: string,
  open: () => Promise<{ blobs: BlobStore; cleanup(): Promise<void> }>,
) {
  describe(`blob contract: ${backend}`, () => {
    let blobs: BlobStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ blobs, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    const writeAll = async (name: string, content: Buffer, chunk: number) => {
      const writer = await blobs.create(name);
      for (let offset = 0; offset < content.length; offset += chunk)
        await writer.write(content.subarray(offset, offset + chunk));
      return writer;
    };

    it('gives back every byte, read whole or at any offset and length', async () => {
      const content = randomBytes(700 * 1024 + 13);
      const name = blobs.newName();
      const writer = await writeAll(name, content, 48 * 1024 + 7);
      expect(writer.size).toBe(content.length);
      await writer.commit();
      const reader = await blobs.open(name);
      expect((await reader.read(0, content.length + 1)).equals(content)).toBe(true);
      // Reads as a download makes them, then some across chunk ends and past the end.
      let sequential = Buffer.alloc(0);
      for (let offset = 0; offset < content.length; offset += 48_960)
        sequential = Buffer.concat([sequential, await reader.read(offset, 48_960)]);
      expect(sequential.equals(content)).toBe(true);
      for (const [offset, length] of [
        [262_143, 3],
        [1, 600_000],
        [content.length - 5, 100],
        [content.length, 10],
      ] as const)
        expect(
          (await reader.read(offset, length)).equals(content.subarray(offset, offset + length)),
        ).toBe(true);
      await reader.close();
    });

    it('lists a blob while it is written, opens it only once committed', async () => {
      const name = blobs.newName();
      const writer = await writeAll(name, randomBytes(1000), 100);
      expect(await blobs.list()).toContain(name);
      await expect(blobs.open(name)).rejects.toThrow();
      await writer.commit();
      await (await blobs.open(name)).close();
    });

    it('abort and remove leave nothing; a blob removed while written fails its commit', async () => {
      const aborted = blobs.newName();
      const writer = await writeAll(aborted, randomBytes(300 * 1024), 64 * 1024);
      await writer.abort();
      expect(await blobs.list()).not.toContain(aborted);

      const removed = blobs.newName();
      await (await writeAll(removed, randomBytes(10), 10)).commit();
      await blobs.remove(removed);
      expect(await blobs.list()).not.toContain(removed);
      await expect(blobs.open(removed)).rejects.toThrow();

      const swept = blobs.newName();
      const sweptWriter = await writeAll(swept, randomBytes(1000), 1000);
      await blobs.remove(swept);
      await expect(sweptWriter.commit()).rejects.toThrow();
      expect(await blobs.list()).not.toContain(swept);
    });

    it('an empty blob is a blob', async () => {
      const name = blobs.newName();
      await (await blobs.create(name)).commit();
      const reader = await blobs.open(name);
      expect((await reader.read(0, 10)).length).toBe(0);
      await reader.close();
    });
  });
}

describeBlobContract('files folder', async () => {
  const dir = tempDir('blobs');
  return {
    blobs: new DiskBlobStore(dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeBlobContract('PostgreSQL', async () => {
  const { store, cleanup } = await openTestPostgresStore({ poolSize: 2 });
  return { blobs: store.blobs, cleanup };
});
