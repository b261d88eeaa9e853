import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
export { formatBytes } from './bytes.js';
import { ConnectionClosedError, RequestError, type ChatClient } from './client.js';
import { claimDownloadPath, defaultDownloadsDir, type ClaimedPath } from './downloads.js';
import type { FileEntry } from '../protocol/files.js';
import {
  ChecksumError,
  TransferFlow,
  type ByteSink,
  type ByteSource,
  type DownloadState,
  type Sha256,
  type TransferOptions,
  type TransferPlatform,
  type UploadResult,
} from './transfer-flow.js';

/**
 * File transfer for the Node surfaces (line mode, full screen, tests, benchmarks): the
 * protocol flow of transfer-flow.ts (which a browser can use too) over files on disk. Reads
 * and writes stream in chunks under the server's flow control, so memory stays flat
 * whatever the file size; a download appears under its final name only once its SHA-256
 * matches.
 */
export {
  ChecksumError,
  UploadInterruptedError,
  type TransferOptions,
  type TransferProgress,
  type UploadResult,
} from './transfer-flow.js';

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

export class DownloadInterruptedError extends ConnectionClosedError {
  constructor(
    message: string,
    readonly partial: PartialDownload,
  ) {
    super(message);
    this.name = 'DownloadInterruptedError';
  }
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

const DEFAULT_WINDOW = 8;

/** Hashing and base64 with Node's own crypto and Buffer (no copies of the bytes). */
export const nodeTransferPlatform: TransferPlatform = {
  sha256: () => nodeSha256(createHash('sha256')),
  toBase64: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'),
  fromBase64: (text) => Buffer.from(text, 'base64'),
};

function nodeSha256(hash: Hash): Sha256 {
  return { update: (bytes) => hash.update(bytes), hex: () => hash.digest('hex') };
}

/** Feeds a file into `hash` as a stream; returns its size. */
async function hashInto(hash: Sha256, file: string): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return size;
}

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = nodeTransferPlatform.sha256();
  const size = await hashInto(hash, file);
  return { size, sha256: hash.hex() };
}

export class FileTransfers {
  readonly downloadsDir: string;
  private readonly flow: TransferFlow;

  constructor(
    private readonly client: ChatClient,
    options: { downloadsDir?: string } = {},
  ) {
    this.downloadsDir = options.downloadsDir ?? defaultDownloadsDir();
    this.flow = new TransferFlow(client, nodeTransferPlatform);
  }

  /** `/send NAME PATH`: the file waits on the server for `to`. */
  send(to: string, file: string, options: UploadOptions = {}): Promise<UploadResult> {
    return this.uploadFile('send', to, file, options);
  }

  /** `/upload PATH`: shares the file with everyone. */
  upload(file: string, options: UploadOptions = {}): Promise<UploadResult> {
    return this.uploadFile('upload', undefined, file, options);
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
    const offer = await this.flow.resumeOffer(transfer);
    return this.sendFrom(file, (source) => this.flow.send(offer, source, facts.sha256, options));
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

  private async uploadFile(
    cmd: 'send' | 'upload',
    to: string | undefined,
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
    const offer = await this.flow.offer(cmd, {
      ...(to !== undefined && { to }),
      name: options.name ?? path.basename(file),
      size: facts.size,
      sha256: facts.sha256,
    });
    return this.sendFrom(file, (source) => this.flow.send(offer, source, facts.sha256, options));
  }

  /** Opens `file` as an upload's byte source for as long as `use` runs. */
  private async sendFrom<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<T> {
    const handle = await open(file, 'r');
    try {
      return await use({
        label: file,
        read: async (offset, length) => {
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(buffer, 0, length, offset);
          return buffer.subarray(0, bytesRead);
        },
      });
    } finally {
      await handle.close();
    }
  }

  /**
   * Downloads into `NAME.part` beside a claimed final name, renamed once the SHA-256
   * matches. Otherwise nothing is left behind, except after a lost connection with
   * `keepPartial`, which leaves what arrived for `resumeDownload`.
   */
  private async downloadFile(
    cmd: 'get' | 'download',
    args: Readonly<Record<string, string>>,
    options: DownloadOptions,
    resume?: PartialDownload,
  ): Promise<DownloadResult> {
    let claimed: ClaimedPath | undefined = resume && { final: resume.final, part: resume.part };
    const state: DownloadState = { offer: undefined, received: 0 };
    let saved: string | undefined;
    try {
      let resumeFrom: { bytes: number; hash: Sha256 } | undefined;
      if (resume) {
        // What is on disk is the truth: hash it again and continue from its end.
        const hash = nodeTransferPlatform.sha256();
        resumeFrom = { bytes: await hashInto(hash, resume.part), hash };
      }
      const result = await this.flow.receive(cmd, args, {
        ...options,
        window: options.window ?? DEFAULT_WINDOW,
        state,
        ...(resumeFrom && { resumeFrom }),
        check: (offer) => {
          if (resume && (offer.sha256 !== resume.sha256 || offer.size !== resume.size))
            throw new ChecksumError(
              `${resume.name} changed on the server; start the download again`,
            );
        },
        open: async (offer) => {
          claimed ??= await claimDownloadPath(this.downloadsDir, offer.name);
          const target = claimed;
          return fileSink(await open(target.part, resume ? 'a' : 'wx'), async () => {
            await rename(target.part, target.final);
            saved = target.final;
            claimed = undefined;
          });
        },
      });
      const { offer } = result;
      return {
        file: offer.file,
        name: offer.name,
        from: offer.from,
        path: saved!,
        size: offer.size,
        sha256: result.sha256,
        elapsedMs: result.elapsedMs,
        bytesPerSecond: result.bytesPerSecond,
      };
    } catch (error) {
      const { offer, received } = state;
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
      throw error;
    }
  }
}

/** A file being written, as a download's sink: synced to disk before it is renamed. */
function fileSink(handle: FileHandle, commit: () => Promise<void>): ByteSink {
  return {
    commit,
    write: async (bytes) => {
      await handle.write(bytes);
    },
    finish: async () => {
      await handle.sync();
      await handle.close();
    },
    close: () => handle.close(),
  };
}
