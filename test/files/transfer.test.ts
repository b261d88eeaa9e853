import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../../src/client/client.js';
import { DownloadInterruptedError, UploadInterruptedError } from '../../src/client/transfers.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../helpers/server.js';
import {
  collect,
  eventually,
  randomFile,
  sha256Of,
  storedBlobs,
  tempDir,
  transfersFor,
} from './helpers.js';

const MiB = 1024 * 1024;
let server: TestServer;
let work: string;

beforeEach(async () => {
  server = await startTestServer();
  work = tempDir('files');
});
afterEach(async () => {
  await server.dispose();
  rmSync(work, { recursive: true, force: true });
});

function folder(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function errorOf(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

const isEv =
  <N extends ServerEvent['ev']>(name: N) =>
  (event: ServerEvent): event is Extract<ServerEvent, { ev: N }> =>
    event.ev === name;

async function listOf(client: ChatClient) {
  return client.request<{
    waiting: { file: string; name: string }[];
    sent: { file: string; name: string }[];
    shared: { file: string; name: string }[];
  }>('files');
}

describe('sending a file to a user', () => {
  it('moves several MiB of binary intact, with progress, and tells both sides', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'data.bin', 5 * MiB + 123);
    const offered = bob.waitFor(isEv('file'));
    const progress: number[] = [];
    const sent = await transfersFor(alice, folder('a')).send('bob', source.file, {
      onProgress: (p) => progress.push(p.bytes),
    });
    expect(sent).toMatchObject({ name: 'data.bin', size: 5 * MiB + 123, sha256: source.sha256 });
    expect(progress.at(-1)).toBe(5 * MiB + 123);
    expect(progress.some((bytes) => bytes > 0 && bytes < 5 * MiB)).toBe(true);
    expect(await offered).toMatchObject({ from: 'alice', name: 'data.bin', size: 5 * MiB + 123 });

    const fetched = alice.waitFor(isEv('filegone'));
    const downloads = folder('b');
    const got = await transfersFor(bob, downloads).get('alice', 'data.bin');
    expect(got.path).toBe(path.join(downloads, 'data.bin'));
    expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
    expect(readdirSync(downloads)).toEqual(['data.bin']);
    expect(await fetched).toMatchObject({ reason: 'fetched', by: 'bob', name: 'data.bin' });
    // Fetched: gone from the listing and from the server's disk.
    expect((await listOf(bob)).waiting).toEqual([]);
    await eventually(() => storedBlobs(server.dataDir).length === 0);
  });

  it('handles a 0-byte file', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'empty.txt', 0);
    await transfersFor(alice, folder('a')).send('bob', source.file);
    const got = await transfersFor(bob, folder('b')).get('alice', 'empty.txt');
    expect(readFileSync(got.path).length).toBe(0);
    expect(got.sha256).toBe(source.sha256);
  });

  it('never overwrites an existing download: name (1).ext', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const downloads = folder('b');
    const source = randomFile(folder('src'), 'report.pdf', 1000);
    const existing = randomFile(downloads, 'report.pdf', 10);
    const transfers = transfersFor(alice, folder('a'));
    await transfers.send('bob', source.file);
    await transfers.send('bob', source.file);
    const first = await transfersFor(bob, downloads).get('alice', 'report.pdf');
    const second = await transfersFor(bob, downloads).get('alice', 'report.pdf');
    expect(path.basename(first.path)).toBe('report (1).pdf');
    expect(path.basename(second.path)).toBe('report (2).pdf');
    expect(sha256Of(readFileSync(existing.file))).toBe(existing.sha256);
    expect(readdirSync(downloads).sort()).toEqual(
      ['report (1).pdf', 'report (2).pdf', 'report.pdf'].sort(),
    );
  });

  it('refuses a file over files.maxBytes or over quota before any byte is stored', async () => {
    await server.dispose();
    server = await startTestServer({ set: { 'files.maxBytes': 4000, 'files.quotaBytes': 6000 } });
    const alice = await server.connect('alice');
    await server.connect('bob');
    const transfers = transfersFor(alice, folder('a'));
    const big = randomFile(folder('src'), 'big.bin', 4001);
    // The client refuses at once, from the limit in hello…
    expect(alice.hello.limits.fileMaxBytes).toBe(4000);
    const tooLarge = await errorOf(transfers.send('bob', big.file));
    expect(tooLarge.code).toBe('file_too_large');
    expect(tooLarge.details).toMatchObject({ max: 4000 });
    // …and the server, for a client that does not look, before any byte is stored.
    const offer = { to: 'bob', name: 'big.bin', size: 4001, sha256: big.sha256 };
    const refused = await errorOf(alice.request('send', offer));
    expect(refused.code).toBe('file_too_large');
    expect(refused.details).toMatchObject({ max: 4000 });
    expect(storedBlobs(server.dataDir)).toEqual([]);

    const fits = randomFile(folder('src'), 'fits.bin', 3500);
    await transfers.upload(fits.file);
    const overQuota = await errorOf(transfers.send('bob', fits.file));
    expect(overQuota.code).toBe('quota_exceeded');
    expect(overQuota.details).toMatchObject({ quota: 6000, used: 3500 });
    expect(storedBlobs(server.dataDir)).toHaveLength(1);
    expect((await listOf(alice)).sent).toEqual([]);
  });

  it("counts guests' shared uploads against their address, after they leave too", async () => {
    await server.dispose();
    server = await startTestServer({ set: { 'files.quotaBytes': 4000 } });
    const piece = randomFile(folder('src'), 'piece.bin', 1500);
    // Guests from one address, one after another: each shares, then leaves.
    for (const nick of ['guest1', 'guest2']) {
      const guest = await server.connect(nick);
      await transfersFor(guest, folder(nick)).upload(piece.file);
      await guest.quit();
    }
    const third = await server.connect('guest3');
    const refused = await errorOf(transfersFor(third, folder('g3')).upload(piece.file));
    expect(refused.code).toBe('quota_exceeded');
    expect(refused.details).toMatchObject({ quota: 4000, used: 3000 });
    expect(refused.message).toMatch(/Guests from your address/);
    expect(storedBlobs(server.dataDir)).toHaveLength(2);

    // Another address has its own quota; an account has its own, whatever its address.
    const elsewhere = await server.open({ localAddress: '127.0.0.2' });
    await elsewhere.login('visitor');
    await transfersFor(elsewhere, folder('v')).upload(piece.file);
    const member = await server.connect('member');
    await member.request('register', { password: 'a long enough password for member' });
    await transfersFor(member, folder('m')).upload(piece.file);
    expect(storedBlobs(server.dataDir)).toHaveLength(4);
  });

  it('refuses every guest upload when files.guestUploads is off', async () => {
    await server.dispose();
    server = await startTestServer({ set: { 'files.guestUploads': 'false' } });
    const guest = await server.connect('guest');
    await server.connect('bob');
    const small = randomFile(folder('src'), 'small.bin', 100);
    for (const offer of [
      guest.request('upload', { name: 'small.bin', size: 100, sha256: small.sha256 }),
      guest.request('send', { to: 'bob', name: 'small.bin', size: 100, sha256: small.sha256 }),
    ])
      expect(await errorOf(offer)).toMatchObject({ code: 'account_required' });
    expect(storedBlobs(server.dataDir)).toEqual([]);
  });

  it('refuses an upload past files.totalBytes, every sender together, before a byte is stored', async () => {
    await server.dispose();
    server = await startTestServer({ set: { 'files.totalBytes': 5000 } });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const first = randomFile(folder('src'), 'first.bin', 3000);
    await transfersFor(alice, folder('a')).upload(first.file);
    // Bob has his whole quota, but the server as a whole is full.
    const second = randomFile(folder('src'), 'second.bin', 3000);
    const refused = await errorOf(
      bob.request('upload', { name: 'second.bin', size: 3000, sha256: second.sha256 }),
    );
    expect(refused.code).toBe('storage_full');
    expect(refused.message).toMatch(/file storage is full \(5000 bytes for everyone\)/);
    expect(storedBlobs(server.dataDir)).toHaveLength(1);
    await expect(
      bob.request('upload', { name: 'small.bin', size: 2000, sha256: second.sha256 }),
    ).resolves.toMatchObject({ size: 2000 });
  });

  it('lets the recipient decline; the sender is told and the bytes are deleted', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'offer.bin', 2000);
    const sent = await transfersFor(alice, folder('a')).send('bob', source.file);
    expect(storedBlobs(server.dataDir)).toHaveLength(1);
    const told = alice.waitFor(isEv('filegone'));
    // The bare seed spelling works too: `filedecline NAME FILE` is `decline`.
    await bob.request('decline', { from: 'alice', file: sent.file });
    expect(await told).toMatchObject({ reason: 'declined', by: 'bob', file: sent.file });
    expect((await listOf(bob)).waiting).toEqual([]);
    expect(storedBlobs(server.dataDir)).toEqual([]);
    expect((await errorOf(bob.request('get', { from: 'alice', file: sent.file }))).code).toBe(
      'unknown_file',
    );
  });

  it('tells an account that was offline at its next login', async () => {
    const bob = await server.connect('bob');
    await bob.request('register', { password: 'correct horse battery' });
    await bob.quit();
    const alice = await server.connect('alice');
    const source = randomFile(folder('src'), 'later.txt', 100);
    await transfersFor(alice, folder('a')).send('bob', source.file);
    const again = await server.open();
    const offered = again.waitFor(isEv('file'));
    await again.login('bob', 'correct horse battery');
    expect(await offered).toMatchObject({ from: 'alice', name: 'later.txt', replay: 'missed' });
  });

  it('refuses files from someone the recipient blocks, online or not', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'unwanted.bin', 100);
    const transfers = transfersFor(alice, folder('a'));
    await bob.request('block', { name: 'alice' });
    expect((await errorOf(transfers.send('bob', source.file))).code).toBe('file_refused');

    const registering = await server.connect('carol');
    await registering.request('register', { password: 'correct horse battery' });
    await registering.quit();
    const carol = await server.connect('carol', 'correct horse battery');
    await carol.request('block', { name: 'alice' });
    await carol.quit();
    expect((await errorOf(transfers.send('carol', source.file))).code).toBe('file_refused');
    expect(storedBlobs(server.dataDir)).toEqual([]);
    // Others still can.
    const dave = await server.connect('dave');
    await transfersFor(dave, folder('d')).send('bob', source.file);
  });

  it('drops files sent to a guest when the guest leaves', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'transient.bin', 3000);
    await transfersFor(alice, folder('a')).send('bob', source.file);
    expect(storedBlobs(server.dataDir)).toHaveLength(1);
    await bob.quit();
    await eventually(() => storedBlobs(server.dataDir).length === 0);
    expect((await listOf(alice)).sent).toEqual([]);
  });
});

describe('the shared area', () => {
  it('shares with everyone online; the uploader or an admin may delete', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const source = randomFile(folder('src'), 'slides.odp', 300_000);
    const announced = bob.waitFor(isEv('shared'));
    const shared = await transfersFor(alice, folder('a')).upload(source.file);
    expect(await announced).toMatchObject({ from: 'alice', name: 'slides.odp', file: shared.file });
    for (const [client, name] of [
      [bob, 'b'],
      [carol, 'c'],
    ] as const) {
      const got = await transfersFor(client, folder(name)).download('slides.odp');
      expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
    }
    // Downloading a shared file does not use it up.
    expect((await listOf(carol)).shared.map((file) => file.name)).toEqual(['slides.odp']);
    expect((await errorOf(bob.request('unshare', { file: shared.file }))).code).toBe(
      'not_authorized',
    );
    const gone = carol.waitFor(isEv('filegone'));
    await alice.request('unshare', { file: shared.file });
    expect(await gone).toMatchObject({ reason: 'deleted', by: 'alice', shared: true });
    expect((await listOf(bob)).shared).toEqual([]);

    const second = await transfersFor(bob, folder('b2')).upload(source.file);
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    await admin.request('unshare', { file: second.file });
    expect((await listOf(alice)).shared).toEqual([]);
    await eventually(() => storedBlobs(server.dataDir).length === 0);
  });
});

describe('integrity and interruptions', () => {
  it('rejects an upload whose SHA-256 does not match and keeps nothing', async () => {
    const alice = await server.connect('alice');
    await server.connect('bob');
    const offer = await alice.request<{ transfer: string }>('send', {
      to: 'bob',
      name: 'x.bin',
      size: 3,
      sha256: '0'.repeat(64),
    });
    await alice.request('filechunk', {
      transfer: offer.transfer,
      offset: 0,
      data: Buffer.from('abc').toString('base64'),
    });
    const error = await errorOf(alice.request('filedone', { transfer: offer.transfer }));
    expect(error.code).toBe('checksum_mismatch');
    expect((await listOf(alice)).sent).toEqual([]);
    expect(storedBlobs(server.dataDir)).toEqual([]);
  });

  it('checks chunks: offset, size and encoding', async () => {
    const alice = await server.connect('alice');
    const offer = await alice.request<{ transfer: string }>('upload', {
      name: 'y.bin',
      size: 4,
      sha256: sha256Of(Buffer.from('abcd')),
    });
    const chunk = (offset: number, data: string) =>
      alice.request('filechunk', { transfer: offer.transfer, offset, data });
    expect((await errorOf(chunk(1, 'YQ=='))).code).toBe('bad_chunk');
    expect((await errorOf(chunk(0, 'not base64!'))).code).toBe('bad_chunk');
    // Characters a decoder would skip, the URL-safe alphabet, missing padding: all refused.
    for (const almost of ['YW Jj ZA==', 'YWJjZA==\n', 'YW-_ZA==', 'YWJjZA', 'YWJj=ZA='])
      expect((await errorOf(chunk(0, almost))).code).toBe('bad_chunk');
    expect((await errorOf(chunk(0, Buffer.from('abcde').toString('base64')))).code).toBe(
      'bad_chunk',
    );
    expect((await errorOf(alice.request('filedone', { transfer: offer.transfer }))).code).toBe(
      'bad_chunk',
    );
    await chunk(0, Buffer.from('abcd').toString('base64'));
    await alice.request('filedone', { transfer: offer.transfer });
    expect((await listOf(alice)).shared.map((file) => file.name)).toEqual(['y.bin']);
  });

  it('an upload cut mid-way leaves nothing listed and nothing on disk', async () => {
    // The partial upload lives as long as its session: here it ends with the connection
    // (with resume on it would wait out resume.graceSeconds for the client to come back).
    await server.dispose();
    server = await startTestServer({ set: { 'resume.graceSeconds': 0 } });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'cut.bin', 4 * MiB);
    let cut = false;
    const attempt = transfersFor(alice, folder('a')).send('bob', source.file, {
      onProgress: (p) => {
        if (!cut && p.bytes > 0) {
          cut = true;
          alice.destroy();
        }
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(UploadInterruptedError);
    expect(cut).toBe(true);
    await eventually(() => storedBlobs(server.dataDir).length === 0);
    const listing = await listOf(bob);
    expect(listing.waiting).toEqual([]);
    expect(listing.shared).toEqual([]);
  });

  it('a download cut mid-way leaves nothing in the downloads folder', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'long.bin', 4 * MiB);
    await transfersFor(alice, folder('a')).upload(source.file);
    const downloads = folder('b');
    let cut = false;
    const attempt = transfersFor(bob, downloads).download('long.bin', {
      onProgress: (p) => {
        if (!cut && p.bytes > 0) {
          cut = true;
          bob.destroy();
        }
      },
    });
    await expect(attempt).rejects.toThrow();
    expect(readdirSync(downloads)).toEqual([]);
    // The shared file itself is intact for the next try.
    const carol = await server.connect('carol');
    const got = await transfersFor(carol, folder('c')).download('long.bin');
    expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
  });

  it('continues an upload from where the server got to (fileresume)', async () => {
    const alice = await server.connect('alice');
    const source = randomFile(folder('src'), 'resumed.bin', 300_000);
    const data = readFileSync(source.file);
    const offer = await alice.request<{ transfer: string; chunkBytes: number }>('upload', {
      name: 'resumed.bin',
      size: data.length,
      sha256: source.sha256,
    });
    await alice.request('filechunk', {
      transfer: offer.transfer,
      offset: 0,
      data: data.subarray(0, offer.chunkBytes).toString('base64'),
    });
    const progress: number[] = [];
    const done = await transfersFor(alice, folder('a')).resumeUpload(offer.transfer, source.file, {
      onProgress: (p) => progress.push(p.bytes),
    });
    expect(progress[0]).toBe(offer.chunkBytes);
    expect(done).toMatchObject({ name: 'resumed.bin', sha256: source.sha256 });
    const bob = await server.connect('bob');
    const got = await transfersFor(bob, folder('b')).download('resumed.bin');
    expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
  });

  it('resumes a download kept after a lost connection, on a new connection', async () => {
    const alice = await server.connect('alice');
    const source = randomFile(folder('src'), 'big.iso', 4 * MiB);
    await transfersFor(alice, folder('a')).upload(source.file);
    const downloads = folder('b');
    const bob = await server.connect('bob');
    let cut = false;
    const error = await transfersFor(bob, downloads)
      .download('big.iso', {
        keepPartial: true,
        onProgress: (p) => {
          if (!cut && p.bytes > 0) {
            cut = true;
            bob.destroy();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadInterruptedError);
    const partial = (error as DownloadInterruptedError).partial;
    expect(partial.bytes).toBeGreaterThan(0);
    expect(partial.bytes).toBeLessThan(4 * MiB);
    // Only the placeholder and the hidden partial: nothing looks finished.
    expect(readFileSync(partial.final).length).toBe(0);

    const again = await server.connect('bob2');
    const progress: number[] = [];
    const got = await transfersFor(again, downloads).resumeDownload(partial, {
      onProgress: (p) => progress.push(p.bytes),
    });
    expect(progress[0]).toBe(partial.bytes);
    expect(got.path).toBe(path.join(downloads, 'big.iso'));
    expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
    expect(readdirSync(downloads)).toEqual(['big.iso']);
  });

  it('can restart a download from an offset', async () => {
    const alice = await server.connect('alice');
    const source = randomFile(folder('src'), 'resume.bin', 200_000);
    await transfersFor(alice, folder('a')).upload(source.file);
    const bob = await server.connect('bob');
    const chunks: Buffer[] = [];
    const offer = await bob.request<{ transfer: string; offset: number; size: number }>(
      'download',
      { file: 'resume.bin', offset: 150_000, window: 8 },
    );
    expect(offer.offset).toBe(150_000);
    const done = new Promise<void>((resolve) => {
      let received = 150_000;
      bob.on('event', (event) => {
        if (event.ev !== 'filedata' || event.transfer !== offer.transfer) return;
        expect(event.offset).toBe(received);
        const bytes = Buffer.from(event.data, 'base64');
        chunks.push(bytes);
        received += bytes.length;
        if (received === offer.size) resolve();
      });
    });
    await done;
    expect(Buffer.concat(chunks)).toEqual(readFileSync(source.file).subarray(150_000));
  });
});

describe('chat during a transfer', () => {
  it('is delivered while a download waits for credit', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'stalled.bin', 2 * MiB);
    await transfersFor(alice, folder('a')).upload(source.file);
    const bobEvents = collect(bob);
    // One chunk of credit and none after: the transfer is stuck half-way on purpose.
    const offer = await bob.request<{ transfer: string; size: number }>('download', {
      file: 'stalled.bin',
      window: 1,
    });
    await eventually(() => bobEvents.some((event) => event.ev === 'filedata'));
    const gotPrivate = bob.waitFor((event) => event.ev === 'private');
    await alice.request('msg', { to: ['bob'], text: 'still there?' });
    await gotPrivate;
    await bob.request('say', { text: 'yes' });
    const data = bobEvents.filter((event) => event.ev === 'filedata');
    expect(data).toHaveLength(1);
    // Credit lets the rest through.
    await bob.request('filecredit', { transfer: offer.transfer, chunks: 32 });
    await eventually(() => bobEvents.some((event) => event.ev === 'filedata' && event.offset > 0));
  });

  it('is delivered in both directions while uploads and downloads run', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const source = randomFile(folder('src'), 'stream.bin', 16 * MiB);
    const order: string[] = [];
    let asked = false;
    const upload = transfersFor(alice, folder('a'))
      .upload(source.file, {
        onProgress: (p) => {
          if (!asked && p.bytes > 0) {
            asked = true;
            // From the uploader's own connection, and to it, mid-transfer.
            void alice.request('say', { text: 'from the uploader' });
            void carol.request('msg', { to: ['alice'], text: 'to the uploader' });
          }
        },
      })
      .then(() => order.push('upload done'));
    const toBob = bob.waitFor(isEv('message')).then(() => order.push('bob got message'));
    const toAlice = alice.waitFor(isEv('private')).then(() => order.push('alice got message'));
    await Promise.all([upload, toBob, toAlice]);
    expect(order.at(-1)).toBe('upload done');
  });
});

describe('hostile names', () => {
  const hostile = [
    '../../etc/passwd',
    'a/b',
    'a\\b',
    'nul\u0000byte.txt',
    'line\nbreak.txt',
    '..',
    'CON.txt',
    'evil\u202etxt.exe',
    'x'.repeat(5000) + '.txt',
  ];

  it('are stored as display names only; nothing is written outside its folder', async () => {
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(folder('src'), 'payload.bin', 10);
    const transfers = transfersFor(alice, folder('a'));
    for (const name of hostile) await transfers.upload(source.file, { name });
    const listed = (await listOf(bob)).shared.map((file) => file.name);
    expect(listed).toHaveLength(hostile.length);
    for (const name of listed) {
      // eslint-disable-next-line no-control-regex
      expect(name).not.toMatch(/[/\\\u0000-\u001f\u202e]/);
      expect(name).not.toMatch(/^\.\.?$/);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    }
    expect(listed).toContain('.._.._etc_passwd'.replace(/^\.+/, ''));
    expect(listed).toContain('_CON.txt');
    // On the server: only generated names.
    for (const blob of storedBlobs(server.dataDir)) expect(blob).toMatch(/^[0-9a-f]{32}$/);

    const before = readdirSync(work).sort();
    const downloads = folder('b');
    const files = (await listOf(bob)).shared;
    for (const file of files) await transfersFor(bob, downloads).download(file.file);
    expect(readdirSync(downloads)).toHaveLength(hostile.length);
    expect(readdirSync(work).sort()).toEqual([...before, 'b'].sort());
  });
});
