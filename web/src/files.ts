import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ServerEvent } from '../../src/protocol/index.js';
import type { WsClient } from './ws-client.js';

/** What the UI shows of a transfer in progress. */
export interface WebTransfer {
  readonly id: string;
  readonly direction: 'up' | 'down';
  readonly name: string;
  readonly size: number;
  done: number;
}

interface StartReply {
  readonly transfer: string;
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly chunkBytes: number;
  readonly window?: number;
  readonly sha256?: string;
}

/** Chunks asked for at once while downloading (the server allows up to 32). */
const DOWNLOAD_WINDOW = 8;

/**
 * SHA-256 of a file, as 64 hex digits. SubtleCrypto where the page is a secure context
 * (HTTPS or localhost); elsewhere (plain HTTP on a LAN address, where browsers withhold
 * SubtleCrypto) the audited @noble/hashes, fed in slices so a large file never sits in
 * memory twice.
 */
export async function sha256Hex(blob: Blob): Promise<string> {
  if (globalThis.crypto?.subtle) {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return bytesToHex(new Uint8Array(digest));
  }
  const hash = sha256.create();
  const slice = 4 * 1024 * 1024;
  for (let offset = 0; offset < blob.size; offset += slice)
    hash.update(new Uint8Array(await blob.slice(offset, offset + slice).arrayBuffer()));
  return bytesToHex(hash.digest());
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let index = 0; index < bytes.length; index += step)
    binary += String.fromCharCode(...bytes.subarray(index, index + step));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Sends a file: to a user (`send`) or to the shared area (`upload`). The server checks
 * size, quota and recipient before any byte moves; chunks then go with at most `window`
 * unanswered, and `filedone` makes the server compare the SHA-256.
 */
export async function uploadFile(
  client: WsClient,
  file: File,
  to: string | undefined,
  progress: (transfer: WebTransfer) => void,
): Promise<{ name: string; size: number; sha256: string }> {
  const digest = await sha256Hex(file);
  const args = { name: file.name, size: file.size, sha256: digest };
  const start = await client.request<StartReply>(
    to === undefined ? 'upload' : 'send',
    to === undefined ? args : { ...args, to },
  );
  const transfer: WebTransfer = {
    id: start.transfer,
    direction: 'up',
    name: start.name,
    size: file.size,
    done: start.offset,
  };
  progress(transfer);
  const window = Math.max(1, start.window ?? 8);
  const inFlight = new Set<Promise<unknown>>();
  for (let offset = start.offset; offset < file.size; offset += start.chunkBytes) {
    const bytes = new Uint8Array(await file.slice(offset, offset + start.chunkBytes).arrayBuffer());
    const sent = client
      .request('filechunk', { transfer: start.transfer, offset, data: toBase64(bytes) })
      .then(() => {
        transfer.done += bytes.length;
        progress(transfer);
      });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => undefined);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const done = await client.request<{ name: string; size: number; sha256: string }>('filedone', {
    transfer: start.transfer,
  });
  return done;
}

/**
 * Fetches a file sent to you (`get`) or a shared one (`download`) into memory, grants
 * credit as chunks arrive, checks the SHA-256 in the browser, and only then confirms
 * with `filedone` (which deletes a file sent to you from the server).
 */
export async function downloadFile(
  client: WsClient,
  request: { cmd: 'get'; from: string; file: string } | { cmd: 'download'; file: string },
  progress: (transfer: WebTransfer) => void,
): Promise<{ name: string; blob: Blob; sha256: string }> {
  const { cmd, ...args } = request;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let transferId: string | undefined;
  const early: Extract<ServerEvent, { ev: 'filedata' }>[] = [];
  let onChunk: ((event: Extract<ServerEvent, { ev: 'filedata' }>) => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  const stop = client.onEvent((event) => {
    if (event.ev === 'filedata') {
      if (transferId === undefined) early.push(event);
      else if (event.transfer === transferId) onChunk?.(event);
    } else if (event.ev === 'fileabort' && event.transfer === transferId) {
      fail?.(new Error(event.message));
    }
  });
  try {
    const start = await client.request<StartReply>(cmd, { ...args, window: DOWNLOAD_WINDOW });
    transferId = start.transfer;
    const transfer: WebTransfer = {
      id: start.transfer,
      direction: 'down',
      name: start.name,
      size: start.size,
      done: 0,
    };
    progress(transfer);
    await new Promise<void>((resolve, reject) => {
      fail = reject;
      let credit = 0;
      onChunk = (event) => {
        if (event.offset !== received) return reject(new Error('A chunk arrived out of order'));
        const bytes = fromBase64(event.data);
        chunks.push(bytes);
        received += bytes.length;
        transfer.done = received;
        progress(transfer);
        if (received >= start.size) return resolve();
        // Credit back in batches of half the window: fewer requests, never a stall.
        if (++credit >= DOWNLOAD_WINDOW / 2) {
          client.request('filecredit', { transfer: start.transfer, chunks: credit }).catch(reject);
          credit = 0;
        }
      };
      if (start.size === 0) resolve();
      for (const event of early.splice(0)) if (event.transfer === transferId) onChunk(event);
      client.onClose(() => reject(new Error('The connection closed during the download')));
    });
    const blob = new Blob(chunks as BlobPart[]);
    const digest = await sha256Hex(blob);
    if (start.sha256 && digest !== start.sha256) {
      await client.request('filecancel', { transfer: start.transfer }).catch(() => undefined);
      throw new Error(`${start.name}: the SHA-256 does not match; the file was discarded`);
    }
    await client.request('filedone', { transfer: start.transfer });
    return { name: start.name, blob, sha256: digest };
  } finally {
    stop();
  }
}

/** Hands a downloaded file to the browser's own download (saved where the user chose). */
export function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
