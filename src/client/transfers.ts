import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
export { formatBytes } from './bytes.js';
import type { ServerEvent } from '../protocol/events.js';
import { ChatClient, ConnectionClosedError, RequestError } from './client.js';
import { claimDownloadPath, defaultDownloadsDir, type ClaimedPath } from './downloads.js';
import type { FileEntry } from '../protocol/files.js';

/**
 * File transfer for every client surface (line mode, full screen, tests, benchmarks):
 * streams from and to disk in chunks under the server's flow control, so memory stays
 * flat whatever the file size, and reports progress for bars and progress lines.
 */
export interface TransferProgress {
  readonly transfer: string;
  readonly direction: 'upload' | 'download';
  readonly name: string;
  /** Bytes done, including any resumed offset. */
  readonly bytes: number;
  readonly total: number;
  /** Average speed of this run, bytes per second. */
  readonly bytesPerSecond: number;
  readonly elapsedMs: number;
}

export interface TransferOptions {
  readonly onProgress?: (progress: TransferProgress) => void;
  /** Aborting cancels the transfer on the server and removes partial files. */
  readonly signal?: AbortSignal;
}

export interface UploadOptions extends TransferOptions {
  /** The name others see (default: the file's own name). */
  readonly name?: string;
}

export interface DownloadOptions extends TransferOptions {
  /** Chunks the server may send ahead of what is written to disk (default 8). */
  readonly window?: number;
  /**
   * When the connection drops, keep what arrived and reject with a
   * `DownloadInterruptedError` whose `partial` `resumeDownload` takes (on this or a new
   * connection). Without it, every partial file is removed.
   */
  readonly keepPartial?: boolean;
}

/** A download cut by a lost connection, kept on disk to be resumed. */
export interface PartialDownload {
  readonly command: 'get' | 'download';
  readonly args: Readonly<Record<string, string>>;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  /** The claimed final name (an empty placeholder until the download completes). */
  readonly final: string;
  /** Where the bytes so far are. */
  readonly part: string;
  readonly bytes: number;
}

/**
 * An upload cut by a lost connection. After the session is resumed (`ChatClient.resume`),
 * `resumeUpload(transfer, file)` continues it from where the server got to; if the
 * session ended instead, the server has already deleted the partial file.
 */
export class UploadInterruptedError extends ConnectionClosedError {
  constructor(
    message: string,
    readonly transfer: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'UploadInterruptedError';
  }
}

export class DownloadInterruptedError extends ConnectionClosedError {
  constructor(
    message: string,
    readonly partial: PartialDownload,
  ) {
    super(message);
    this.name = 'DownloadInterruptedError';
  }
}

export interface UploadResult {
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
}

export interface DownloadResult extends UploadResult {
  readonly path: string;
  readonly from: string;
}

/** A listed file, exactly as the server's `files` reply describes it. */
export type { FileEntry };

export interface FileListing {
  readonly waiting: readonly FileEntry[];
  readonly sent: readonly FileEntry[];
  readonly shared: readonly FileEntry[];
}

/** The file on disk does not match what was announced (changed, or damaged in transit). */
export class ChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChecksumError';
  }
}

interface UploadOffer extends Record<string, unknown> {
  transfer: string;
  file: string;
  name: string;
  size: number;
  offset: number;
  chunkBytes: number;
  window: number;
}

interface DownloadOffer extends Record<string, unknown> {
  transfer: string;
  file: string;
  name: string;
  size: number;
  sha256: string;
  from: string;
  offset: number;
  chunkBytes: number;
}

type TransferEvent = Extract<ServerEvent, { ev: 'filedata' } | { ev: 'fileabort' }>;

const DEFAULT_WINDOW = 8;

/** Feeds a file into `hash` as a stream; returns its size. */
async function hashInto(hash: Hash, file: string): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return size;
}

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

export class FileTransfers {
  readonly downloadsDir: string;

  constructor(
    private readonly client: ChatClient,
    options: { downloadsDir?: string } = {},
  ) {
    this.downloadsDir = options.downloadsDir ?? defaultDownloadsDir();
  }

  /** `/send NAME PATH`: the file waits on the server for `to`. */
  send(to: string, file: string, options: UploadOptions = {}): Promise<UploadResult> {
    return this.uploadFile('send', { to }, file, options);
  }

  /** `/upload PATH`: shares the file with everyone. */
  upload(file: string, options: UploadOptions = {}): Promise<UploadResult> {
    return this.uploadFile('upload', {}, file, options);
  }

  /**
   * Continues an upload after the connection dropped and the session was resumed: the
   * server says how far it got, and the rest is sent from `file`.
   */
  async resumeUpload(
    transfer: string,
    file: string,
    options: TransferOptions = {},
  ): Promise<UploadResult> {
    const facts = await hashFile(file);
    const offer = await this.client.request<UploadOffer>('fileresume', { transfer });
    return this.pushBytes(offer, file, facts.sha256, options);
  }

  /** `/get NAME FILE`: downloads a file sent to you into the downloads folder. */
  get(from: string, file: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return this.downloadFile('get', { from, file }, options);
  }

  /** `/download FILE`: fetches a shared file into the downloads folder. */
  download(file: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    return this.downloadFile('download', { file }, options);
  }

  /** Continues a download kept by `keepPartial`, from the bytes already on disk. */
  resumeDownload(partial: PartialDownload, options: DownloadOptions = {}): Promise<DownloadResult> {
    return this.downloadFile(partial.command, partial.args, options, partial);
  }

  /** Deletes what an interrupted download left, when it will not be resumed. */
  async discardPartial(partial: PartialDownload): Promise<void> {
    await rm(partial.part, { force: true });
    await rm(partial.final, { force: true });
  }

  list(): Promise<FileListing> {
    return this.client.request<FileListing & Record<string, unknown>>('files');
  }

  decline(from: string, file: string): Promise<Record<string, unknown>> {
    return this.client.request('decline', { from, file });
  }

  unshare(file: string): Promise<Record<string, unknown>> {
    return this.client.request('unshare', { file });
  }

  // ---- uploads -----------------------------------------------------------------------

  private async uploadFile(
    cmd: 'send' | 'upload',
    extra: { to?: string },
    file: string,
    options: UploadOptions,
  ): Promise<UploadResult> {
    const info = await stat(file);
    if (!info.isFile()) throw new Error(`${file} is not a file`);
    // Refused before hashing: the server would refuse it anyway (it checks again).
    // Servers before fileMaxBytes was announced leave it out.
    const max: number | undefined = this.client.hello.limits.fileMaxBytes;
    if (max !== undefined && info.size > max)
      throw new RequestError(
        'file_too_large',
        `${path.basename(file)} is ${info.size} bytes; this server takes files of at most ${max} bytes`,
        { max, size: info.size },
      );
    const facts = await hashFile(file);
    const offer = await this.client.request<UploadOffer>(cmd, {
      ...extra,
      name: options.name ?? path.basename(file),
      size: facts.size,
      sha256: facts.sha256,
    });
    return this.pushBytes(offer, file, facts.sha256, options);
  }

  /**
   * Sends the file from the server's offset in chunks, keeping at most `window` chunk
   * requests unanswered: each answer means the server wrote that chunk, so neither side
   * buffers more than a window, and other requests (chat) slot in between chunks.
   */
  private async pushBytes(
    offer: UploadOffer,
    file: string,
    sha256: string,
    options: TransferOptions,
  ): Promise<UploadResult> {
    const { transfer, size, chunkBytes } = offer;
    const window = Math.max(1, offer.window);
    const started = Date.now();
    const progress = this.progressReporter(
      'upload',
      offer.name,
      transfer,
      size,
      offer.offset,
      options,
    );
    const handle = await open(file, 'r');
    const inFlight: Promise<unknown>[] = [];
    try {
      let offset = offer.offset;
      while (offset < size) {
        throwIfAborted(options.signal);
        const length = Math.min(chunkBytes, size - offset);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        if (bytesRead !== length) throw new ChecksumError(`${file} changed while being sent`);
        const chunk = this.client
          .request<{ received: number }>('filechunk', {
            transfer,
            offset,
            data: buffer.toString('base64'),
          })
          .then((reply) => progress(reply.received));
        // Errors surface where the chunk is awaited; this only stops "unhandled" noise.
        chunk.catch(() => undefined);
        inFlight.push(chunk);
        offset += length;
        if (inFlight.length >= window) await inFlight.shift();
      }
      await Promise.all(inFlight);
      throwIfAborted(options.signal);
      const done = await this.client.request<{ file: string; name: string; sha256: string }>(
        'filedone',
        { transfer },
      );
      const elapsedMs = Date.now() - started;
      return {
        file: done.file,
        name: done.name,
        size,
        sha256,
        elapsedMs,
        bytesPerSecond: speed(size - offer.offset, elapsedMs),
      };
    } catch (error) {
      await Promise.allSettled(inFlight);
      // The server keeps the upload while the session waits to be resumed.
      if (error instanceof ConnectionClosedError)
        throw new UploadInterruptedError(error.message, transfer, file);
      await this.cancelQuietly(transfer, error);
      throw error;
    } finally {
      await handle.close();
    }
  }

  // ---- downloads ---------------------------------------------------------------------

  /**
   * Asks for a file, then writes the chunks the server pushes, one at a time, granting
   * more credit as chunks reach the disk. The file appears under its final name only
   * once its SHA-256 matches. Otherwise nothing is left behind, except after a lost
   * connection with `keepPartial`, which leaves what arrived for `resumeDownload`.
   */
  private async downloadFile(
    cmd: 'get' | 'download',
    args: Readonly<Record<string, string>>,
    options: DownloadOptions,
    resume?: PartialDownload,
  ): Promise<DownloadResult> {
    const window = options.window ?? DEFAULT_WINDOW;
    // Chunks may arrive in the same read as the reply: hold them until we know our id.
    const early: TransferEvent[] = [];
    let deliver: ((event: TransferEvent) => void) | undefined;
    let fail: ((error: Error) => void) | undefined;
    const onEvent = (event: ServerEvent) => {
      if (event.ev !== 'filedata' && event.ev !== 'fileabort') return;
      if (deliver) deliver(event);
      else early.push(event);
    };
    const onClose = () =>
      fail?.(new ConnectionClosedError('The connection closed during the download'));
    const onAbort = () => fail?.(new Error('Download cancelled'));
    this.client.on('event', onEvent);
    this.client.on('close', onClose);
    options.signal?.addEventListener('abort', onAbort);
    let offer: DownloadOffer | undefined;
    let claimed: ClaimedPath | undefined = resume && { final: resume.final, part: resume.part };
    let received = 0;
    const hash = createHash('sha256');
    try {
      if (resume) {
        // What is on disk is the truth: hash it again and continue from its end.
        const kept = await hashInto(hash, resume.part);
        received = kept;
      }
      offer = await this.client.request<DownloadOffer>(cmd, {
        ...args,
        window,
        ...(received > 0 && { offset: received }),
      });
      const current = offer;
      if (resume && (current.sha256 !== resume.sha256 || current.size !== resume.size))
        throw new ChecksumError(`${resume.name} changed on the server; start the download again`);
      claimed ??= await claimDownloadPath(this.downloadsDir, current.name);
      const target = claimed;
      const out = await open(target.part, resume ? 'a' : 'wx');
      const started = Date.now();
      const startOffset = received;
      const progress = this.progressReporter(
        'download',
        current.name,
        current.transfer,
        current.size,
        startOffset,
        options,
      );
      let unacknowledged = 0;
      let writing: Promise<void> = Promise.resolve();
      try {
        await new Promise<void>((resolve, reject) => {
          fail = reject;
          if (options.signal?.aborted) reject(new Error('Download cancelled'));
          const writeChunk = async (event: Extract<TransferEvent, { ev: 'filedata' }>) => {
            if (event.offset !== received) throw new Error(`Chunk out of order at ${event.offset}`);
            const bytes = Buffer.from(event.data, 'base64');
            if (received + bytes.length > current.size)
              throw new Error('More data than the file size');
            await out.write(bytes);
            hash.update(bytes);
            received += bytes.length;
            progress(received);
            unacknowledged++;
            if (received === current.size) resolve();
            else if (unacknowledged >= Math.ceil(window / 2)) {
              const chunks = unacknowledged;
              unacknowledged = 0;
              this.client
                .request('filecredit', { transfer: current.transfer, chunks })
                .catch((error: unknown) => reject(error as Error));
            }
          };
          deliver = (event) => {
            if (event.transfer !== current.transfer) return;
            if (event.ev === 'fileabort') {
              reject(new RequestError('unknown_file', event.message));
              return;
            }
            writing = writing
              .then(() => writeChunk(event))
              .catch((error: unknown) => reject(error as Error));
          };
          for (const event of early.splice(0)) deliver(event);
          if (received === current.size) resolve();
        });
        await writing;
        await out.sync();
      } finally {
        // Writes already queued finish before the file is closed (or kept for a resume).
        await writing.catch(() => undefined);
        await out.close();
      }
      const digest = hash.digest('hex');
      if (digest !== current.sha256)
        throw new ChecksumError(
          `${current.name} arrived damaged (SHA-256 mismatch); it was removed`,
        );
      await rename(target.part, target.final);
      claimed = undefined;
      await this.client.request('filedone', { transfer: current.transfer });
      const elapsedMs = Date.now() - started;
      return {
        file: current.file,
        name: current.name,
        from: current.from,
        path: target.final,
        size: current.size,
        sha256: digest,
        elapsedMs,
        bytesPerSecond: speed(current.size - startOffset, elapsedMs),
      };
    } catch (error) {
      if (options.keepPartial && error instanceof ConnectionClosedError && claimed) {
        const partial: PartialDownload | undefined = offer
          ? {
              command: cmd,
              // By id, so the resume asks for this very file.
              args: cmd === 'get' ? { from: offer.from, file: offer.file } : { file: offer.file },
              name: offer.name,
              size: offer.size,
              sha256: offer.sha256,
              final: claimed.final,
              part: claimed.part,
              bytes: received,
            }
          : resume && { ...resume, bytes: received };
        if (partial) throw new DownloadInterruptedError(error.message, partial);
      }
      if (claimed) {
        await rm(claimed.part, { force: true });
        await rm(claimed.final, { force: true });
      }
      if (offer) await this.cancelQuietly(offer.transfer, error);
      throw error;
    } finally {
      this.client.off('event', onEvent);
      this.client.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  // ---- helpers -----------------------------------------------------------------------

  private progressReporter(
    direction: 'upload' | 'download',
    name: string,
    transfer: string,
    total: number,
    startOffset: number,
    options: TransferOptions,
  ): (bytes: number) => void {
    const started = Date.now();
    const report = options.onProgress;
    if (!report) return () => undefined;
    report({
      transfer,
      direction,
      name,
      bytes: startOffset,
      total,
      bytesPerSecond: 0,
      elapsedMs: 0,
    });
    return (bytes) => {
      const elapsedMs = Date.now() - started;
      report({
        transfer,
        direction,
        name,
        bytes,
        total,
        bytesPerSecond: speed(bytes - startOffset, elapsedMs),
        elapsedMs,
      });
    };
  }

  /** Tells the server to drop a failed transfer, unless the failure was the server's. */
  private async cancelQuietly(transfer: string, cause: unknown): Promise<void> {
    if (this.client.isClosed || cause instanceof ConnectionClosedError) return;
    await this.client.request('filecancel', { transfer }).catch(() => undefined);
  }
}

function speed(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('Transfer cancelled');
}
