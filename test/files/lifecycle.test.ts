import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../../src/client/client.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { filesOf } from '../../src/core/files/file-service.js';
import { DiskBlobStore, type BlobStore, type BlobWriter } from '../../src/store/blobs.js';
import { makeDataDir, startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, randomFile, storedBlobs, tempDir, transfersFor } from './helpers.js';

const DAY_MS = 86_400_000;
let server: TestServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await server?.dispose();
  server = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function work(): string {
  const dir = tempDir('files-life');
  dirs.push(dir);
  return dir;
}

/** The system clock, shifted forward on demand: days pass without waiting. */
class ShiftedClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
  setTimeout = systemClock.setTimeout;
  clearTimeout = systemClock.clearTimeout;
}

const isGone = (event: ServerEvent): event is Extract<ServerEvent, { ev: 'filegone' }> =>
  event.ev === 'filegone';

describe('expiry', () => {
  it('removes unclaimed files after files.expiryDays and tells the sender', async () => {
    const clock = new ShiftedClock();
    server = await startTestServer({ clock, set: { 'files.expiryDays': 2 } });
    const dir = work();
    const alice = await server.connect('alice');
    await alice.request('register', { password: 'correct horse battery' });
    const bob = await server.connect('bob');
    await bob.request('register', { password: 'another good passphrase' });
    const carol = await server.connect('carol');
    const source = randomFile(dir, 'old.bin', 5000);
    await transfersFor(alice, dir).send('bob', source.file);
    const aliceShared = await transfersFor(alice, dir).upload(source.file, { name: 'mine.bin' });
    const shared = await transfersFor(carol, dir).upload(source.file);
    await alice.quit();

    const files = filesOf(server.server.core);
    clock.offset = DAY_MS;
    expect(await files.sweepExpired()).toBe(0);
    clock.offset = 2 * DAY_MS + 1000;
    const carolTold = carol.waitFor(isGone);
    expect(await files.sweepExpired()).toBe(3);
    expect(await carolTold).toMatchObject({ reason: 'expired', shared: true, file: shared.file });
    const listing = await bob.request<{ waiting: unknown[]; shared: unknown[] }>('files');
    expect(listing).toMatchObject({ waiting: [], shared: [] });
    expect(storedBlobs(server.dataDir)).toEqual([]);

    // Alice was offline: she hears of it at her next login.
    const again = await server.open();
    const told: ServerEvent[] = [];
    again.on('event', (event) => {
      if (isGone(event)) told.push(event);
    });
    await again.login('alice', 'correct horse battery');
    await eventually(() => told.length === 2);
    expect(told).toEqual([
      expect.objectContaining({ reason: 'expired', name: 'old.bin', shared: false }),
      expect.objectContaining({ reason: 'expired', file: aliceShared.file, shared: true }),
    ]);
    expect(told[0]).toMatchObject({ replay: 'missed' });
    expect(told[0]).not.toHaveProperty('by');
  });
});

/** A disk that fills up after `capacity` bytes. */
function fillingDisk(dir: string, capacity: number): BlobStore {
  const disk = new DiskBlobStore(dir);
  let used = 0;
  return {
    newName: () => disk.newName(),
    open: (name) => disk.open(name),
    remove: (name) => disk.remove(name),
    list: () => disk.list(),
    // Says nothing about free space: the failure comes mid-upload, as it may on a real disk.
    freeBytes: async () => undefined,
    async create(name) {
      const writer = await disk.create(name);
      const full: BlobWriter = {
        get size() {
          return writer.size;
        },
        async write(data) {
          if (used + data.length > capacity)
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          used += data.length;
          await writer.write(data);
        },
        commit: () => writer.commit(),
        abort: () => writer.abort(),
      };
      return full;
    },
  };
}

describe('disk trouble', () => {
  it('a full disk fails that transfer cleanly and the server carries on', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    const blobDir = path.join(dataDir, 'files');
    mkdirSync(blobDir, { recursive: true });
    server = await startTestServer({ dataDir, blobs: fillingDisk(blobDir, 200_000) });
    const dir = work();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(dir, 'huge.bin', 1_000_000);
    const error = await transfersFor(alice, dir)
      .send('bob', source.file)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('storage_failed');
    expect((error as RequestError).message).toMatch(/disk space/);
    await eventually(() => readdirSync(blobDir).length === 0);
    expect(await bob.request('files')).toMatchObject({ waiting: [] });
    // Chat and small files still work.
    const heard = bob.waitFor((event) => event.ev === 'message');
    await alice.request('say', { text: 'still here' });
    await heard;
    const small = randomFile(dir, 'small.bin', 1000);
    await transfersFor(alice, dir).send('bob', small.file);
  });
});

describe('restart', () => {
  it('forgets unfinished uploads and orphaned bytes, keeps finished files', async () => {
    const dataDir = makeDataDir();
    dirs.push(dataDir);
    server = await startTestServer({ dataDir });
    const dir = work();
    const alice = await server.connect('alice');
    const kept = randomFile(dir, 'kept.bin', 3000);
    await transfersFor(alice, dir).upload(kept.file);
    await alice.request('upload', { name: 'half.bin', size: 10, sha256: 'a'.repeat(64) });
    expect(storedBlobs(dataDir)).toHaveLength(2);
    await server.stop();
    server = await startTestServer({ dataDir });
    expect(storedBlobs(dataDir)).toHaveLength(1);
    const bob = await server.connect('bob');
    const listing = await bob.request<{ shared: { name: string }[] }>('files');
    expect(listing.shared.map((file) => file.name)).toEqual(['kept.bin']);
  });
});

describe('flood control', () => {
  it('does not throttle the chunks of a transfer, but meters transfer steps without one', async () => {
    server = await startTestServer({ set: { 'flood.burst': 3, 'flood.perSecond': 1 } });
    const dir = work();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    // 1 MiB is 22 chunks, far past a burst of 3 at 1 a second.
    const source = randomFile(dir, 'paced.bin', 1024 * 1024);
    const sent = await transfersFor(alice, dir).upload(source.file);
    expect(sent.sha256).toBe(source.sha256);
    const got = await transfersFor(bob, dir).download(sent.file);
    expect(got.sha256).toBe(source.sha256);
    const bogus = Array.from({ length: 8 }, () =>
      bob
        .request('filechunk', { transfer: 't999', offset: 0, data: 'AAAA' })
        .catch((e: unknown) => e),
    );
    const codes = (await Promise.all(bogus)).map((error) => (error as RequestError).code);
    expect(codes).toContain('rate_limited');
  });
});

describe('deleted accounts', () => {
  it('leave no bytes behind once the sweep has run', async () => {
    server = await startTestServer();
    const dir = work();
    const alice = await server.connect('alice');
    await alice.request('register', { password: 'correct horse battery' });
    await server.connect('bob');
    const source = randomFile(dir, 'theirs.bin', 2000);
    await transfersFor(alice, dir).upload(source.file);
    await transfersFor(alice, dir).send('bob', source.file);
    await alice.quit();
    const core = server.server.core;
    const account = await core.store.accounts.findByKey('alice');
    await core.store.accounts.delete(account!.id);
    expect(storedBlobs(server.dataDir)).toHaveLength(2);
    expect(await filesOf(core).removeOrphans()).toBe(2);
    expect(storedBlobs(server.dataDir)).toEqual([]);
  });
});
