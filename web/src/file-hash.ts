import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * SHA-256 of files in the page without holding a whole file in memory. SubtleCrypto has no
 * incremental digest (it takes one buffer), so the audited @noble/hashes hashes the bytes
 * as they stream: on an upload as the file is read from disk, on a download as it arrives.
 */

/** The one buffer a stream is read into, reused for every slice. */
export const SLICE_BYTES = 1024 * 1024;

/**
 * The stream's bytes as slices of `SLICE_BYTES` (the last one shorter), each a view of one
 * reused buffer that is only valid until the next slice is asked for. A "bring your own
 * buffer" reader fills that buffer in place, so reading a file of any size leaves no
 * garbage behind; a browser without one for this stream gets its chunks as they come.
 */
async function* slices(
  stream: ReadableStream<Uint8Array>,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream here: read it chunk by chunk below.
  }
  if (!byob) {
    const reader = stream.getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        onBytes?.(next.value.length);
        yield next.value;
      }
    } finally {
      reader.releaseLock();
    }
    return;
  }
  let buffer = new ArrayBuffer(SLICE_BYTES);
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await byob.read(new Uint8Array(buffer, filled));
      if (value) {
        // The read hands the buffer back (transferred): keep using the one it returns.
        buffer = value.buffer as ArrayBuffer;
        filled += value.length;
        if (value.length > 0) onBytes?.(value.length);
      }
      if (filled === SLICE_BYTES || (done && filled > 0)) {
        yield new Uint8Array(buffer, 0, filled);
        filled = 0;
      }
      if (done) return;
    }
  } finally {
    byob.releaseLock();
  }
}

/** SHA-256 of a file or blob, as 64 hex digits, read a slice at a time. */
export async function hashBlob(blob: Blob): Promise<string> {
  const hash = sha256.create();
  for await (const slice of slices(blob.stream())) hash.update(slice);
  return bytesToHex(hash.digest());
}

/** What the server says a download holds. */
export interface Expected {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Reads a download's body to the end, hashing each slice as it arrives, and gives the file
 * back as a Blob only when its size and SHA-256 match. Each slice is copied into a Blob of
 * its own, which hands it to the browser's blob store (outside the page's heap, and on
 * disk when large), so the page holds one slice of the file at a time. More bytes than
 * announced stop the download at once.
 */
export async function receiveVerified(
  body: ReadableStream<Uint8Array>,
  expected: Expected,
  onBytes: (received: number) => void,
): Promise<{ blob: Blob; sha256: string }> {
  const hash = sha256.create();
  const parts: Blob[] = [];
  let received = 0;
  const stream = slices(body, (bytes) => {
    received += bytes;
    onBytes(received);
  });
  for await (const slice of stream) {
    if (received > expected.size) break;
    hash.update(slice);
    parts.push(new Blob([slice as BlobPart]));
  }
  if (received > expected.size) {
    // Leaving the loop released the reader: the rest of the body is not fetched.
    await body.cancel().catch(() => undefined);
    throw new Error(`${expected.name}: more bytes arrived than its ${expected.size}`);
  }
  if (received !== expected.size)
    throw new Error(`${expected.name}: only ${received} of ${expected.size} bytes arrived`);
  const digest = bytesToHex(hash.digest());
  if (digest !== expected.sha256)
    throw new Error(`${expected.name}: the SHA-256 does not match; the file was discarded`);
  return { blob: new Blob(parts), sha256: digest };
}
