import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/client.js';
import {
  blobSource,
  ChecksumError,
  memorySink,
  TransferFlow,
  type TransferPlatform,
} from '../src/client/transfer-flow.js';
import { FileTransfers } from '../src/client/transfers.js';
import { webTransferPlatform } from '../web/src/transfer-platform.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * File transfer's protocol flow without a file system, as a page would run it: over the
 * WebSocket channel, with the page's hashing and base64 (@noble/hashes, btoa/atob), bytes
 * from a `Blob` and into memory. The other side is the Node client on disk.
 */
let server: TestServer | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'confab-flow-'));
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function setUp(): Promise<{ web: ChatClient; native: ChatClient; disk: FileTransfers }> {
  server = await startTestServer({ web: true });
  const web = await ChatClient.connectWebSocket(
    `ws://127.0.0.1:${server.server.webAddress!.port}/ws`,
  );
  await web.login('paige');
  const native = await server.connect('nadia');
  const downloadsDir = mkdtempSync(path.join(dir, 'downloads-'));
  return { web, native, disk: new FileTransfers(native, { downloadsDir }) };
}

describe('the transfer flow with in-memory bytes (what a page uses)', () => {
  it('sends a Blob in chunks; the Node client gets it on disk, SHA-256 checked', async () => {
    const { web, disk } = await setUp();
    // Several chunks and a short last one.
    const bytes = new Uint8Array(randomBytes(700_001));
    const flow = new TransferFlow(web, webTransferPlatform);
    const digest = sha256(bytes);
    const offer = await flow.offer('send', {
      to: 'nadia',
      name: 'notes.bin',
      size: bytes.length,
      sha256: digest,
    });
    expect(offer.chunkBytes).toBeLessThan(bytes.length);
    const progress: number[] = [];
    const sent = await flow.send(offer, blobSource(new Blob([bytes]), 'notes.bin'), digest, {
      onProgress: (p) => progress.push(p.bytes),
    });
    expect(sent).toMatchObject({ name: 'notes.bin', size: bytes.length, sha256: digest });
    expect(progress.at(-1)).toBe(bytes.length);
    const got = await disk.get('paige', sent.file);
    expect(readFileSync(got.path).equals(Buffer.from(bytes))).toBe(true);
  });

  it('receives into memory under credit, checks the SHA-256, then confirms', async () => {
    const { web, disk } = await setUp();
    const bytes = randomBytes(500_000);
    const file = path.join(dir, 'photo.jpg');
    writeFileSync(file, bytes);
    const sent = await disk.send('paige', file);
    const flow = new TransferFlow(web, webTransferPlatform);
    let blob: Blob | undefined;
    const result = await flow.receive(
      'get',
      { from: 'nadia', file: sent.file },
      { window: 4, open: async () => memorySink((whole) => (blob = whole)) },
    );
    expect(result.sha256).toBe(sha256(bytes));
    expect(Buffer.from(await blob!.arrayBuffer()).equals(bytes)).toBe(true);
    // Confirmed with filedone: no longer waiting for paige.
    const listing = await web.request<{ waiting: unknown[] }>('files');
    expect(listing.waiting).toEqual([]);
  });

  it('refuses damaged bytes: nothing handed over, the file still waits on the server', async () => {
    const { web, disk } = await setUp();
    const file = path.join(dir, 'report.pdf');
    writeFileSync(file, randomBytes(200_000));
    const sent = await disk.send('paige', file);
    // A transport that flips one bit of the first chunk.
    let damaged = false;
    const faulty: TransferPlatform = {
      ...webTransferPlatform,
      fromBase64: (text) => {
        const bytes = webTransferPlatform.fromBase64(text);
        if (!damaged) {
          bytes[0]! ^= 1;
          damaged = true;
        }
        return bytes;
      },
    };
    let handedOver = false;
    const error = await new TransferFlow(web, faulty)
      .receive(
        'get',
        { from: 'nadia', file: sent.file },
        { window: 8, open: async () => memorySink(() => (handedOver = true)) },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ChecksumError);
    // Never handed over, never confirmed.
    expect(handedOver).toBe(false);
    const listing = await web.request<{ waiting: { file: string }[] }>('files');
    expect(listing.waiting.map((entry) => entry.file)).toEqual([sent.file]);
  });
});
