import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UploadInterruptedError } from '../../src/client/transfers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { randomFile, sha256Of, storedBlobs, tempDir, transfersFor } from './helpers.js';

let server: TestServer | undefined;
let work: string | undefined;
afterEach(async () => {
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('an upload across a session resume', () => {
  it('waits, unlisted, while the session is away, then continues where the server got to', async () => {
    server = await startTestServer({ set: { 'resume.graceSeconds': 60 } });
    work = tempDir('files-resume');
    const dir = work;
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const source = randomFile(dir, 'long.bin', 4 * 1024 * 1024);
    const token = alice.resumeToken!;
    let cut = false;
    const error = await transfersFor(alice, dir)
      .send('bob', source.file, {
        onProgress: (p) => {
          if (!cut && p.bytes > 0) {
            cut = true;
            alice.destroy();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadInterruptedError);
    const { transfer } = error as UploadInterruptedError;
    // Away, not gone: the partial upload is kept, and never listed.
    expect(await bob.request('files')).toMatchObject({ waiting: [] });
    expect(storedBlobs(server.dataDir)).toHaveLength(1);

    const again = await server.open();
    await again.resume(token);
    const progress: number[] = [];
    const offered = bob.waitFor((event) => event.ev === 'file');
    const done = await transfersFor(again, dir).resumeUpload(transfer, source.file, {
      onProgress: (p) => progress.push(p.bytes),
    });
    expect(progress[0]).toBeGreaterThan(0);
    expect(done.sha256).toBe(source.sha256);
    await offered;
    const downloads = path.join(dir, 'downloads');
    mkdirSync(downloads);
    const got = await transfersFor(bob, downloads).get('alice', done.file);
    expect(sha256Of(readFileSync(got.path))).toBe(source.sha256);
  });
});
