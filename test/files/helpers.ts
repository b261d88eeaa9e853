import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChatClient } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { FileTransfers } from '../../src/client/transfers.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `confab-${prefix}-`));
}

/** Writes `size` random bytes to a new file; returns its path and SHA-256. */
export function randomFile(dir: string, name: string, size: number) {
  const data = randomBytes(size);
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return { file, sha256: createHash('sha256').update(data).digest('hex') };
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function transfersFor(client: ChatClient, downloadsDir: string): FileTransfers {
  return new FileTransfers(client, { downloadsDir });
}

/** Blob names under the server's `files/` directory. */
export function storedBlobs(dataDir: string): string[] {
  try {
    return readdirSync(path.join(dataDir, 'files'));
  } catch {
    return [];
  }
}

export function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

/** Polls `check` until it holds (bounded: 100 tries, 20 ms apart). */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met in time');
}
