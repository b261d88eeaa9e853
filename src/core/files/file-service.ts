import type { BlobStore } from '../../store/blobs.js';
import type { StoredFile } from '../../store/store.js';
import type { ChatCore, SessionObserver } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Link, Session } from '../session.js';
import { Downloads } from './downloads.js';
import { publicFileId, type FileContext } from './file-common.js';
import { FileLifecycle } from './file-lifecycle.js';
import { Uploads, type FileOffer } from './uploads.js';

export { chunkBytesFor, partyOf, publicFileId } from './file-common.js';
export { MAX_DOWNLOAD_CREDIT, MAX_DOWNLOADS_PER_LINK } from './downloads.js';
export type { FileEntry } from './file-lifecycle.js';
export { MAX_UPLOADS_PER_SESSION, UPLOAD_WINDOW, type FileOffer } from './uploads.js';

const services = new WeakMap<ChatCore, FileService>();

/**
 * Transfer steps skip flood control only while their session has a transfer under way:
 * then a window bounds them; without one they are metered like anything else.
 */
export function hasTransferUnderWay(core: ChatCore, link: Link): boolean {
  const session = link.session;
  return session !== null && (services.get(core)?.hasTransfers(session) ?? false);
}

/** The file service of a core; a server without one cannot move files. */
export function filesOf(core: ChatCore): FileService {
  const service = services.get(core);
  if (!service) throw new ChatError('unknown_command', 'This server does not transfer files');
  return service;
}

/**
 * File transfer through the server: uploads streamed to disk with their SHA-256 checked
 * on arrival (uploads.ts), downloads pushed as the client grants credit and the connection
 * drains (downloads.ts), so neither side holds a whole file; files at rest listed, expired,
 * swept and recovered (file-lifecycle.ts). Metadata lives in the store's `files`, bytes in
 * a `BlobStore` under generated names. This class is what commands and the core see.
 */
export class FileService implements SessionObserver {
  private readonly uploads: Uploads;
  private readonly downloads: Downloads;
  private readonly lifecycle: FileLifecycle;
  private nextTransfer = 1;

  private constructor(
    private readonly core: ChatCore,
    blobs: BlobStore,
  ) {
    const ctx: FileContext = {
      core,
      blobs,
      creating: new Set(),
      newTransferId: () => `t${this.nextTransfer++}`,
    };
    this.downloads = new Downloads(ctx);
    this.lifecycle = new FileLifecycle(ctx, this.downloads);
    this.uploads = new Uploads(ctx, this.lifecycle);
  }

  /** Cleans up what a previous run left, then follows the core's sessions. */
  static async install(core: ChatCore, blobs: BlobStore): Promise<FileService> {
    const service = new FileService(core, blobs);
    await service.lifecycle.recover();
    services.set(core, service);
    core.observeSessions(service);
    service.lifecycle.scheduleSweep();
    return service;
  }

  // ---- uploads -----------------------------------------------------------------------

  offer(session: Session, offer: FileOffer) {
    return this.uploads.offer(session, offer);
  }

  putChunk(session: Session, transfer: string, offset: number, data: string) {
    return this.uploads.putChunk(session, transfer, offset, data);
  }

  finishUpload(session: Session, transfer: string) {
    return this.uploads.finish(session, transfer);
  }

  /** After a dropped connection, where an upload of this (resumed) session stands. */
  resumeUpload(session: Session, transfer: string) {
    return this.uploads.resume(session, transfer);
  }

  isUpload(transfer: string): boolean {
    return this.uploads.isUpload(transfer);
  }

  hasTransfers(session: Session): boolean {
    return this.uploads.has(session) || this.downloads.has(session);
  }

  // ---- downloads ---------------------------------------------------------------------

  /**
   * Opens a download of `file` to `link` from `offset`. Its chunks start flowing when
   * `start` is called, which the command does after its reply, so the reply comes first.
   */
  startDownload(session: Session, link: Link, file: StoredFile, offset: number, window: number) {
    return this.downloads.start(session, link, file, offset, window);
  }

  grantCredit(session: Session, transfer: string, chunks: number): void {
    this.downloads.grantCredit(session, transfer, chunks);
  }

  /** The client has the whole file and its hash matched: a sent file is done with. */
  async finishDownload(session: Session, transfer: string) {
    const file = this.downloads.finish(session, transfer);
    if (file.recipient) await this.lifecycle.retire(file, 'fetched', session.nick);
    return { file: publicFileId(file) };
  }

  cancel(session: Session, transfer: string): Promise<void> | void {
    const upload = this.uploads.cancel(session, transfer);
    if (upload !== false) return upload;
    this.downloads.cancel(session, transfer);
  }

  // ---- files at rest -----------------------------------------------------------------

  list(session: Session) {
    return this.lifecycle.list(session);
  }

  findWaiting(session: Session, from: string, ref: string): Promise<StoredFile> {
    return this.lifecycle.findWaiting(session, from, ref);
  }

  findShared(ref: string): Promise<StoredFile> {
    return this.lifecycle.findShared(ref);
  }

  decline(session: Session, file: StoredFile) {
    return this.lifecycle.decline(session, file);
  }

  unshare(session: Session, file: StoredFile) {
    return this.lifecycle.unshare(session, file);
  }

  sweepExpired(): Promise<number> {
    return this.lifecycle.sweepExpired();
  }

  removeOrphans(): Promise<number> {
    return this.lifecycle.removeOrphans();
  }

  // ---- session lifecycle -------------------------------------------------------------

  loggedIn(session: Session): void {
    this.lifecycle.loggedIn(session);
  }

  ended(session: Session): void {
    void this.cleanUpSession(session).catch((error: unknown) =>
      this.core.logger.warn({ err: error, session: session.id }, 'file clean-up failed'),
    );
  }

  stopping(): void {
    this.lifecycle.stop();
    this.downloads.endAll();
    this.uploads.dropAll();
  }

  private async cleanUpSession(session: Session): Promise<void> {
    this.downloads.endAll(session);
    await this.uploads.sessionEnded(session);
    if (!session.account) await this.lifecycle.forgetGuest(session);
  }
}
