import type { BlobReader } from '../../store/blobs.js';
import type { StoredFile } from '../../store/store.js';
import { ChatError } from '../errors.js';
import type { Link, Session } from '../session.js';
import { chunkBytesFor, publicFileId, type FileContext } from './file-common.js';

/** Most chunks a client may grant ahead during a download (credit beyond is capped). */
export const MAX_DOWNLOAD_CREDIT = 32;
export const MAX_DOWNLOADS_PER_LINK = 4;

interface Download {
  readonly id: string;
  readonly session: Session;
  readonly link: Link;
  readonly file: StoredFile;
  readonly reader: BlobReader;
  readonly chunkBytes: number;
  offset: number;
  credit: number;
  pumping: boolean;
  ended: boolean;
}

/**
 * Downloads in progress: chunks pushed as the client grants credit and the connection
 * drains, so neither side holds a whole file.
 */
export class Downloads {
  private readonly downloads = new Map<string, Download>();

  constructor(private readonly ctx: FileContext) {}

  /**
   * Opens a download of `file` to `link` from `offset`. Its chunks start flowing when
   * `start` is called, which the command does after its reply, so the reply comes first.
   */
  async start(
    session: Session,
    link: Link,
    file: StoredFile,
    offset: number,
    window: number,
  ): Promise<{ reply: object; start: () => void }> {
    const outlet = link.outlet;
    if (!outlet.sendBulk || !outlet.drained)
      throw new ChatError('bad_request', 'This connection cannot carry files');
    for (const download of this.downloads.values()) if (download.link.isClosed) this.end(download);
    const active = [...this.downloads.values()].filter((download) => download.link === link);
    if (active.length >= MAX_DOWNLOADS_PER_LINK)
      throw new ChatError(
        'too_many_transfers',
        `At most ${MAX_DOWNLOADS_PER_LINK} downloads at once`,
      );
    if (offset > file.size)
      throw new ChatError('bad_chunk', `The file has only ${file.size} bytes`, {
        expected: file.size,
      });
    const reader = await this.ctx.blobs.open(file.storageName).catch(() => {
      throw new ChatError('unknown_file', `${file.name} is no longer on the server`);
    });
    const download: Download = {
      id: this.ctx.newTransferId(),
      session,
      link,
      file,
      reader,
      chunkBytes: chunkBytesFor(this.ctx.core.params['frame.maxBytes']),
      offset,
      credit: Math.min(window, MAX_DOWNLOAD_CREDIT),
      pumping: false,
      ended: false,
    };
    this.downloads.set(download.id, download);
    return {
      start: () => this.pump(download),
      reply: {
        transfer: download.id,
        file: publicFileId(file),
        name: file.name,
        size: file.size,
        sha256: file.sha256,
        from: file.sender,
        offset,
        chunkBytes: download.chunkBytes,
      },
    };
  }

  grantCredit(session: Session, transfer: string, chunks: number): void {
    const download = this.downloadOf(session, transfer);
    download.credit = Math.min(download.credit + chunks, MAX_DOWNLOAD_CREDIT);
    this.pump(download);
  }

  /** The client has the whole file: ends the download and returns the file it carried. */
  finish(session: Session, transfer: string): StoredFile {
    const download = this.downloadOf(session, transfer);
    const { file } = download;
    if (download.offset < file.size)
      throw new ChatError('bad_chunk', `Only ${download.offset} of ${file.size} bytes were sent`);
    this.end(download);
    return file;
  }

  cancel(session: Session, transfer: string): void {
    this.end(this.downloadOf(session, transfer));
  }

  has(session: Session): boolean {
    for (const download of this.downloads.values()) if (download.session === session) return true;
    return false;
  }

  /** Ends the downloads of `session` (it left), or every one when none is given. */
  endAll(session?: Session): void {
    for (const download of [...this.downloads.values()])
      if (session === undefined || download.session === session) this.end(download);
  }

  /** Tells whoever is downloading `file` that it is gone, and stops. */
  abortDownloadsOf(file: StoredFile): void {
    for (const download of [...this.downloads.values()])
      if (download.file.id === file.id)
        this.abort(download, 'unknown_file', `${file.name} was removed from the server`);
  }

  /** Sends chunks while the client has credit and the connection keeps up. */
  private pump(download: Download): void {
    if (download.pumping || download.ended) return;
    download.pumping = true;
    void this.runPump(download).finally(() => {
      download.pumping = false;
    });
  }

  private async runPump(download: Download): Promise<void> {
    const { link, file } = download;
    const outlet = link.outlet;
    try {
      while (!download.ended && download.credit > 0 && download.offset < file.size) {
        await outlet.drained!();
        if (download.ended) return;
        if (link.isClosed) {
          this.end(download);
          return;
        }
        const length = Math.min(download.chunkBytes, file.size - download.offset);
        const data = await download.reader.read(download.offset, length);
        if (download.ended) return;
        if (data.length !== length) throw new Error(`${file.storageName} is shorter than recorded`);
        outlet.sendBulk!(
          this.ctx.core.events.make({
            ev: 'filedata',
            transfer: download.id,
            offset: download.offset,
            data: data.toString('base64'),
          }),
        );
        download.offset += length;
        download.credit--;
        this.ctx.core.telemetry.fileBytes('out', length);
      }
    } catch (error) {
      this.ctx.core.logger.error({ err: error, file: file.id }, 'file read failed');
      this.abort(download, 'storage_failed', 'The server could not read the file');
    }
  }

  private end(download: Download): void {
    if (download.ended) return;
    download.ended = true;
    this.downloads.delete(download.id);
    void download.reader.close().catch(() => undefined);
  }

  private abort(download: Download, code: string, message: string): void {
    this.end(download);
    if (!download.link.isClosed)
      download.link.outlet.send(
        this.ctx.core.events.make({ ev: 'fileabort', transfer: download.id, code, message }),
      );
  }

  private downloadOf(session: Session, transfer: string): Download {
    const download = this.downloads.get(transfer);
    if (!download || download.session !== session)
      throw new ChatError('unknown_transfer', `No download ${transfer} in progress`);
    return download;
  }
}
