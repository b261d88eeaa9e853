import { hashBlob, receiveVerified } from './file-hash.js';
import { TransferFlow } from '../../src/client/transfer-flow.js';
import { webTransferPlatform } from './transfer-platform.js';
import type { ProtocolClient } from './ws-client.js';

/** What the UI shows of a transfer in progress. */
export interface WebTransfer {
  readonly id: string;
  readonly direction: 'up' | 'down';
  readonly name: string;
  readonly size: number;
  done: number;
}

interface LinkReply {
  readonly token: string;
  readonly expiresAt: number;
}

/** A file link from `filelink` as a URL on this page's own server (`/file?t=TOKEN`). */
function linkUrl(token: string): string {
  return new URL(`/file?t=${encodeURIComponent(token)}`, location.href).href;
}

/** The server's JSON answer to a file request, or its error as an `Error`. */
function parseAnswer(status: number, text: string): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: a proxy's page or a cut connection; the status says enough.
  }
  if (status >= 200 && status < 300) return body;
  throw new Error(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
}

/**
 * Sends a file: to a user (`send`) or to the shared area (`upload`). The server checks
 * size, quota and recipient before any byte moves; the bytes then go in one HTTP PUT to a
 * short-lived link (streamed from disk by the browser, with upload progress), and the
 * server compares the SHA-256 when the last byte is in.
 */
export async function uploadFile(
  client: ProtocolClient,
  file: File,
  to: string | undefined,
  progress: (transfer: WebTransfer) => void,
): Promise<{ name: string; size: number; sha256: string }> {
  const digest = await hashBlob(file);
  const args = { name: file.name, size: file.size, sha256: digest };
  // The offer is the shared transfer flow's; the bytes go over HTTP, not as chunk frames.
  const flow = new TransferFlow(client, webTransferPlatform);
  const start = await flow.offer(to === undefined ? 'upload' : 'send', { ...args, to });
  const transfer: WebTransfer = {
    id: start.transfer,
    direction: 'up',
    name: start.name,
    size: file.size,
    done: 0,
  };
  progress(transfer);
  try {
    const link = await client.request<LinkReply>('filelink', { transfer: start.transfer });
    const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
      // XMLHttpRequest, not fetch: only it reports upload progress.
      const request = new XMLHttpRequest();
      request.open('PUT', linkUrl(link.token));
      request.upload.onprogress = (event) => {
        transfer.done = event.loaded;
        progress(transfer);
      };
      request.onload = () => {
        try {
          resolve(parseAnswer(request.status, request.responseText));
        } catch (error) {
          reject(error as Error);
        }
      };
      request.onerror = () => reject(new Error('The upload was cut off'));
      request.send(file);
    });
    if (answer.received !== file.size || typeof answer.sha256 !== 'string')
      throw new Error(`Only ${String(answer.received)} of ${file.size} bytes arrived`);
    return { name: String(answer.name), size: Number(answer.size), sha256: answer.sha256 };
  } catch (error) {
    await flow.cancelQuietly(start.transfer, error);
    throw error;
  }
}

/**
 * Fetches a file sent to you or a shared one over HTTP (a short-lived link from
 * `filelink`) with progress, hashing it as it streams in (`receiveVerified`: the page
 * never holds the whole file), and only when the SHA-256 matches confirms with
 * `filedone` (which deletes a file sent to you from the server).
 */
export async function downloadFile(
  client: ProtocolClient,
  request: { from?: string; file: string },
  progress: (transfer: WebTransfer) => void,
): Promise<{ name: string; blob: Blob; sha256: string }> {
  const link = await client.request<LinkReply & { name: string; size: number; sha256: string }>(
    'filelink',
    request,
  );
  const transfer: WebTransfer = {
    id: link.token,
    direction: 'down',
    name: link.name,
    size: link.size,
    done: 0,
  };
  progress(transfer);
  const response = await fetch(linkUrl(link.token), { cache: 'no-store' });
  if (!response.ok || !response.body) parseAnswer(response.status, await response.text());
  const { blob, sha256 } = await receiveVerified(response.body!, link, (received) => {
    transfer.done = received;
    progress(transfer);
  });
  await client.request('filedone', { transfer: link.token });
  return { name: link.name, blob, sha256 };
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
