import type { BlobStore } from '../../store/blobs.js';
import type { StoredFile } from '../../store/store.js';
import type { ChatCore, SessionObserver } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Link, Session } from '../session.js';
import { Downloads } from './downloads.js';
import { publicFileId, type FileContext } from './file-common.js';
import { FileLifecycle } from './file-lifecycle.js';
import { HttpLinks, type HttpLink } from './http-links.js';
import { Uploads, type FileOffer } from './uploads.js';

export { chunkBytesFor, partyOf, publicFileId } from './file-common.js';
export { MAX_DOWNLOAD_CREDIT, MAX_DOWNLOADS_PER_LINK } from './downloads.js';
export type { FileEntry } from './file-lifecycle.js';
export { HTTP_LINK_MS, type HttpLink } from './http-links.js';
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
  private readonly links: HttpLinks;

  private readonly ctx: FileContext;

  private constructor(
    private readonly core: ChatCore,
    blobs: BlobStore,
  ) {
    const ctx: FileContext = {
      core,
      blobs,
      newTransferId: () => core.ids.transfer(),
    };
    this.ctx = ctx;
    this.downloads = new Downloads(ctx);
    this.lifecycle = new FileLifecycle(ctx, this.downloads);
    this.uploads = new Uploads(ctx, this.lifecycle);
    this.links = new HttpLinks(() => core.clock.now());
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

  /**
   * The client has the whole file and its hash matched: a sent file is done with.
   * `transfer` is a native download's id, or the token of a GET link that served it all.
   */
  async finishDownload(session: Session, transfer: string) {
    const file =
      this.links.delivered(session, transfer)?.file ?? this.downloads.finish(session, transfer);
    if (file.recipient) await this.lifecycle.retire(file, 'fetched', session.nick);
    return { file: publicFileId(file) };
  }

  cancel(session: Session, transfer: string): Promise<void> | void {
    const upload = this.uploads.cancel(session, transfer);
    if (upload !== false) return upload;
    this.downloads.cancel(session, transfer);
  }

  // ---- bytes over HTTP (the web listener's /file route) --------------------------------

  /** A GET link for a file this session may fetch (found by `findWaiting`/`findShared`). */
  downloadLink(session: Session, file: StoredFile) {
    const { token, expiresAt } = this.links.issue(session, 'GET', file);
    return {
      token,
      expiresAt,
      file: publicFileId(file),
      name: file.name,
      size: file.size,
      sha256: file.sha256,
      from: file.sender,
    };
  }

  /** A PUT link for an upload of this session that `send` or `upload` opened. */
  uploadLink(session: Session, transfer: string) {
    const upload = this.uploads.resume(session, transfer);
    const file = this.uploads.fileOf(session, transfer);
    const { token, expiresAt } = this.links.issue(session, 'PUT', file, transfer);
    return { token, expiresAt, transfer, size: upload.size, offset: upload.offset };
  }

  /** The link `token` names, checked live (unknown or expired: `unknown_transfer`). */
  redeemLink(token: string, method: 'GET' | 'PUT'): HttpLink {
    return this.links.redeem(token, method);
  }

  /** Opens a GET link's blob for reading; the caller closes it. */
  openLinkBlob(link: HttpLink) {
    return this.ctx.blobs.open(link.file.storageName).catch(() => {
      throw new ChatError('unknown_file', `${link.file.name} is no longer on the server`);
    });
  }

  /** Counts bytes a GET link sent (`filedone` needs them all) and reports them. */
  linkServed(link: HttpLink, bytes: number): void {
    link.served += bytes;
    this.core.telemetry.fileBytes('out', bytes);
  }

  /** The next bytes of a PUT link's upload: the native transfer's checks, without base64. */
  putLinkBytes(link: HttpLink, offset: number, bytes: Buffer) {
    return this.uploads.putBytes(link.session, link.transfer!, offset, bytes);
  }

  /** Where a PUT link's upload stands (bytes stored, size, largest piece per write). */
  linkUploadState(link: HttpLink) {
    return this.uploads.resume(link.session, link.transfer!);
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
    this.links.forgetAll();
    this.downloads.endAll();
    this.uploads.dropAll();
  }

  private async cleanUpSession(session: Session): Promise<void> {
    this.links.forget(session);
    this.downloads.endAll(session);
    await this.uploads.sessionEnded(session);
    if (!session.account) await this.lifecycle.forgetGuest(session);
  }
}
