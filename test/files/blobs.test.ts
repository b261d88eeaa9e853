import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BLOB_SYNC_BYTES, DiskBlobStore } from '../../src/store/blobs.js';
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
