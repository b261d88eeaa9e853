import { createHash, type Hash } from 'node:crypto';
import type { BlobReader, BlobStore, BlobWriter } from '../../store/blobs.js';
import type { FileGoneReason, FileParty, StoredFile } from '../../store/store.js';
import type { ChatCore, SessionObserver } from '../chat-core.js';
import type { TimerHandle } from '../clock.js';
import { ChatError } from '../errors.js';
import type { EventPayload } from '../events.js';
import { checkName, nameKey } from '../names.js';
import type { Link, Session } from '../session.js';
import { refusesFilesFrom } from './blocking.js';
import { sanitizeFileName } from './file-names.js';

/** Chunk requests a client may have unanswered during an upload. */
export const UPLOAD_WINDOW = 8;
/** Most chunks a client may grant ahead during a download (credit beyond is capped). */
export const MAX_DOWNLOAD_CREDIT = 32;
export const MAX_UPLOADS_PER_SESSION = 4;
export const MAX_DOWNLOADS_PER_LINK = 4;
const SWEEP_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;
/** Room left in a frame for the JSON around a chunk's base64 data. */
const FRAME_OVERHEAD_BYTES = 256;
const MAX_CHUNK_BYTES = 48 * 1024;

/** The largest chunk whose base64 request still fits a client frame of `frameMaxBytes`. */
export function chunkBytesFor(frameMaxBytes: number): number {
  const fitting = Math.floor((frameMaxBytes - FRAME_OVERHEAD_BYTES) / 4) * 3;
  return Math.max(3, Math.min(MAX_CHUNK_BYTES, fitting));
}

/** Files are named on the wire `f<id>`, so `/get alice f12` picks one of same-named files. */
export function publicFileId(file: StoredFile): string {
  return `f${file.id}`;
}

interface Upload {
  readonly id: string;
  readonly session: Session;
  readonly file: StoredFile;
  readonly writer: BlobWriter;
  readonly hash: Hash;
  readonly chunkBytes: number;
}

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

export interface FileOffer {
  readonly to?: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export interface FileEntry {
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly from: string;
  readonly to?: string;
  readonly at: number;
  readonly expiresAt: number;
}

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
 * on arrival, downloads pushed as the client grants credit and the connection drains, so
 * neither side holds a whole file. Metadata lives in the store's `files`, bytes in a
 * `BlobStore` under generated names.
 */
export class FileService implements SessionObserver {
  private readonly uploads = new Map<string, Upload>();
  private readonly downloads = new Map<string, Download>();
  private nextTransfer = 1;
  /** Storage names whose bytes exist before their record does (an offer in progress). */
  private readonly creating = new Set<string>();
  private sweepTimer: TimerHandle | undefined;
  private stopped = false;

  private constructor(
    private readonly core: ChatCore,
    private readonly blobs: BlobStore,
  ) {}

  /** Cleans up what a previous run left, then follows the core's sessions. */
  static async install(core: ChatCore, blobs: BlobStore): Promise<FileService> {
    const service = new FileService(core, blobs);
    await service.recover();
    services.set(core, service);
    core.observeSessions(service);
    service.scheduleSweep();
    return service;
  }

  // ---- uploads -----------------------------------------------------------------------

  async offer(session: Session, offer: FileOffer) {
    const { core } = this;
    if (this.uploadsOf(session).length >= MAX_UPLOADS_PER_SESSION)
      throw new ChatError(
        'too_many_transfers',
        `At most ${MAX_UPLOADS_PER_SESSION} uploads at once`,
      );
    const name = sanitizeFileName(offer.name);
    const max = core.params['files.maxBytes'];
    if (offer.size > max)
      throw new ChatError(
        'file_too_large',
        `${name} is ${offer.size} bytes; the server takes files up to ${max} bytes`,
        { max, size: offer.size },
      );
    const recipient =
      offer.to === undefined ? null : await this.resolveRecipient(session, offer.to);
    const owner = partyOf(session);
    const quota = core.params['files.quotaBytes'];
    const used = await core.store.files.usedBytes(owner);
    if (used + offer.size > quota)
      throw new ChatError(
        'quota_exceeded',
        `You store ${used} bytes of your ${quota}; ${name} (${offer.size} bytes) does not fit`,
        { quota, used, size: offer.size },
      );
    const storageName = this.blobs.newName();
    this.creating.add(storageName);
    const writer = await this.blobs.create(storageName).catch((error: unknown) => {
      this.creating.delete(storageName);
      throw this.storageError(error, 'create');
    });
    let file: StoredFile;
    try {
      file = await core.store.files.create({
        storageName,
        name,
        size: offer.size,
        sha256: offer.sha256,
        sender: session.nick,
        senderParty: owner,
        recipient,
        createdAt: core.clock.now(),
      });
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      this.creating.delete(storageName);
    }
    const upload: Upload = {
      id: this.newTransferId(),
      session,
      file,
      writer,
      hash: createHash('sha256'),
      chunkBytes: chunkBytesFor(core.params['frame.maxBytes']),
    };
    this.uploads.set(upload.id, upload);
    return {
      transfer: upload.id,
      file: publicFileId(file),
      name,
      size: file.size,
      offset: 0,
      chunkBytes: upload.chunkBytes,
      window: UPLOAD_WINDOW,
    };
  }

  async putChunk(session: Session, transfer: string, offset: number, data: string) {
    const upload = this.uploadOf(session, transfer);
    const expected = upload.writer.size;
    if (offset !== expected)
      throw new ChatError('bad_chunk', `The next chunk starts at byte ${expected}`, { expected });
    const bytes = Buffer.from(data, 'base64');
    // Padded standard base64 only. Decoding skips what is not in the alphabet and takes the
    // URL-safe one too, so the text was valid exactly when the bytes encode back to it: a
    // twentieth of what a regular expression costs over 64 KiB, a third of an upload's CPU.
    if (bytes.toString('base64') !== data)
      throw new ChatError('bad_chunk', 'Chunk data must be base64');
    if (bytes.length === 0 || bytes.length > upload.chunkBytes)
      throw new ChatError('bad_chunk', `A chunk holds 1 to ${upload.chunkBytes} bytes`);
    if (offset + bytes.length > upload.file.size)
      throw new ChatError('bad_chunk', `The file has only ${upload.file.size} bytes`);
    try {
      await upload.writer.write(bytes);
    } catch (error) {
      await this.dropUpload(upload);
      throw this.storageError(error, 'write');
    }
    upload.hash.update(bytes);
    return { received: upload.writer.size };
  }

  hasTransfers(session: Session): boolean {
    for (const upload of this.uploads.values()) if (upload.session === session) return true;
    for (const download of this.downloads.values()) if (download.session === session) return true;
    return false;
  }

  isUpload(transfer: string): boolean {
    return this.uploads.has(transfer);
  }

  async finishUpload(session: Session, transfer: string) {
    const upload = this.uploadOf(session, transfer);
    const { file, writer } = upload;
    if (writer.size !== file.size)
      throw new ChatError('bad_chunk', `Only ${writer.size} of ${file.size} bytes arrived`, {
        expected: writer.size,
      });
    const digest = upload.hash.digest('hex');
    if (digest !== file.sha256) {
      await this.dropUpload(upload);
      throw new ChatError('checksum_mismatch', undefined, { expected: file.sha256, got: digest });
    }
    try {
      await writer.commit();
    } catch (error) {
      await this.dropUpload(upload);
      throw this.storageError(error, 'commit');
    }
    this.uploads.delete(upload.id);
    const recipientSession = file.recipient && this.sessionOf(file.recipient.party);
    if (file.recipient?.party.kind === 'guest' && !recipientSession) {
      await this.removeFile(file);
      throw new ChatError('unknown_user', `${file.recipient.nick} left before the file arrived`);
    }
    await this.core.store.files.markReady(file.id);
    const id = publicFileId(file);
    if (!file.recipient) {
      this.core.publish(
        { kind: 'everyone' },
        { ev: 'shared', file: id, from: session.nick, name: file.name, size: file.size },
        { exclude: session, senderKey: session.nickKey },
      );
    } else if (recipientSession) {
      this.core.sendTo(recipientSession, this.offerEvent({ ...file, state: 'ready' }));
    }
    return { file: id, name: file.name, size: file.size, sha256: file.sha256 };
  }

  /** After a dropped connection, where an upload of this (resumed) session stands. */
  resumeUpload(session: Session, transfer: string) {
    const upload = this.uploadOf(session, transfer);
    return {
      transfer: upload.id,
      file: publicFileId(upload.file),
      name: upload.file.name,
      size: upload.file.size,
      offset: upload.writer.size,
      chunkBytes: upload.chunkBytes,
      window: UPLOAD_WINDOW,
    };
  }

  // ---- downloads ---------------------------------------------------------------------

  /**
   * Opens a download of `file` to `link` from `offset`. Its chunks start flowing when
   * `start` is called, which the command does after its reply, so the reply comes first.
   */
  async startDownload(
    session: Session,
    link: Link,
    file: StoredFile,
    offset: number,
    window: number,
  ): Promise<{ reply: object; start: () => void }> {
    const outlet = link.outlet;
    if (!outlet.sendBulk || !outlet.drained)
      throw new ChatError('bad_request', 'This connection cannot carry files');
    for (const download of this.downloads.values())
      if (download.link.isClosed) this.endDownload(download);
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
    const reader = await this.blobs.open(file.storageName).catch(() => {
      throw new ChatError('unknown_file', `${file.name} is no longer on the server`);
    });
    const download: Download = {
      id: this.newTransferId(),
      session,
      link,
      file,
      reader,
      chunkBytes: chunkBytesFor(this.core.params['frame.maxBytes']),
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

  /** The client has the whole file and its hash matched: a sent file is done with. */
  async finishDownload(session: Session, transfer: string) {
    const download = this.downloadOf(session, transfer);
    const { file } = download;
    if (download.offset < file.size)
      throw new ChatError('bad_chunk', `Only ${download.offset} of ${file.size} bytes were sent`);
    this.endDownload(download);
    if (file.recipient) {
      await this.retire(file, 'fetched', session.nick);
    }
    return { file: publicFileId(file) };
  }

  cancel(session: Session, transfer: string): Promise<void> | void {
    const upload = this.uploads.get(transfer);
    if (upload && upload.session === session) return this.dropUpload(upload);
    this.endDownload(this.downloadOf(session, transfer));
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
          this.endDownload(download);
          return;
        }
        const length = Math.min(download.chunkBytes, file.size - download.offset);
        const data = await download.reader.read(download.offset, length);
        if (download.ended) return;
        if (data.length !== length) throw new Error(`${file.storageName} is shorter than recorded`);
        outlet.sendBulk!(
          this.core.events.make({
            ev: 'filedata',
            transfer: download.id,
            offset: download.offset,
            data: data.toString('base64'),
          }),
        );
        download.offset += length;
        download.credit--;
      }
    } catch (error) {
      this.core.logger.error({ err: error, file: file.id }, 'file read failed');
      this.abortDownload(download, 'storage_failed', 'The server could not read the file');
    }
  }

  // ---- listing, declining, deleting --------------------------------------------------

  async list(session: Session) {
    const store = this.core.store.files;
    const party = partyOf(session);
    const [waiting, sent, shared] = await Promise.all([
      store.waitingFor(party),
      store.sentBy(party),
      store.shared(),
    ]);
    return {
      waiting: waiting.map((file) => this.entry(file)),
      sent: sent.map((file) => this.entry(file)),
      shared: shared.map((file) => this.entry(file)),
    };
  }

  /** A file waiting for `session` from `from`, by `f<id>` or by name (oldest first). */
  async findWaiting(session: Session, from: string, ref: string): Promise<StoredFile> {
    const key = nameKey(from);
    const files = (await this.core.store.files.waitingFor(partyOf(session))).filter(
      (file) => nameKey(file.sender) === key,
    );
    return pick(files, ref, `No file "${ref}" from ${from} is waiting for you`);
  }

  async findShared(ref: string): Promise<StoredFile> {
    const files = await this.core.store.files.shared();
    return pick(files, ref, `No shared file "${ref}"`);
  }

  async decline(session: Session, file: StoredFile) {
    await this.retire(file, 'declined', session.nick);
    return { file: publicFileId(file), name: file.name };
  }

  async unshare(session: Session, file: StoredFile) {
    if (!sameParty(file.senderParty, partyOf(session)) && !session.isAdmin)
      throw new ChatError('not_authorized', 'Only its uploader or an admin may delete a file');
    await this.removeFile(file);
    this.core.publish(
      { kind: 'everyone' },
      {
        ev: 'filegone',
        file: publicFileId(file),
        name: file.name,
        reason: 'deleted',
        by: session.nick,
        shared: true,
      },
    );
    return { file: publicFileId(file), name: file.name };
  }

  /** Removes files older than `files.expiryDays`, telling their senders. */
  async sweepExpired(): Promise<number> {
    const cutoff = this.core.clock.now() - this.core.params['files.expiryDays'] * DAY_MS;
    const expired = await this.core.store.files.createdBefore(cutoff);
    for (const file of expired) await this.retire(file, 'expired');
    return expired.length;
  }

  // ---- session lifecycle -------------------------------------------------------------

  loggedIn(session: Session): void {
    if (!session.account) return;
    const accountId = session.account.id;
    void (async () => {
      const store = this.core.store.files;
      for (const file of await store.waitingFor({ kind: 'account', accountId }))
        this.core.sendTo(session, { ...this.offerEvent(file), replay: 'missed' });
      for (const note of await store.takeTombstones(accountId))
        this.core.sendTo(session, {
          ev: 'filegone',
          file: `f${note.id}`,
          name: note.name,
          reason: note.reason,
          // `by` names who declined or fetched it; nobody "expires" a file.
          ...(note.recipient !== '' && note.reason !== 'expired' && { by: note.recipient }),
          shared: note.recipient === '',
          replay: 'missed',
        });
    })().catch((error: unknown) =>
      this.core.logger.warn({ err: error, session: session.id }, 'could not list waiting files'),
    );
  }

  ended(session: Session): void {
    void this.cleanUpSession(session).catch((error: unknown) =>
      this.core.logger.warn({ err: error, session: session.id }, 'file clean-up failed'),
    );
  }

  stopping(): void {
    this.stopped = true;
    if (this.sweepTimer) this.core.clock.clearTimeout(this.sweepTimer);
    for (const download of [...this.downloads.values()]) this.endDownload(download);
    for (const upload of [...this.uploads.values()]) void this.dropUpload(upload);
  }

  private async cleanUpSession(session: Session): Promise<void> {
    for (const download of [...this.downloads.values()])
      if (download.session === session) this.endDownload(download);
    for (const upload of [...this.uploads.values()]) {
      if (upload.session === session) await this.dropUpload(upload);
      else if (sameParty(upload.file.recipient?.party, { kind: 'guest', sessionId: session.id })) {
        await this.dropUpload(upload);
        this.tellTransfer(
          upload.session,
          upload.id,
          'unknown_user',
          `${session.nick} left; the transfer was cancelled`,
        );
      }
    }
    if (session.account) return;
    // A guest's files exist only as long as the guest: nobody could claim them later.
    for (const file of await this.core.store.files.forgetGuest(session.id)) {
      this.abortDownloadsOf(file);
      await this.blobs.remove(file.storageName);
    }
  }

  // ---- internals ---------------------------------------------------------------------

  private async recover(): Promise<void> {
    for (const file of await this.core.store.files.recoverAfterRestart())
      await this.blobs.remove(file.storageName);
    await this.removeOrphans();
  }

  /**
   * Deletes bytes no file record owns: left by a crash, or by records that went with a
   * deleted account (the store cascades; the bytes are ours to remove). Returns how many.
   */
  async removeOrphans(): Promise<number> {
    const names = await this.blobs.list();
    const known = await this.core.store.files.storageNames();
    let removed = 0;
    for (const name of names) {
      if (known.has(name) || this.creating.has(name)) continue;
      await this.blobs.remove(name);
      removed++;
    }
    return removed;
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = this.core.clock.setTimeout(() => {
      void this.sweepExpired()
        .then(() => this.removeOrphans())
        .catch((error: unknown) => this.core.logger.warn({ err: error }, 'file sweep failed'))
        .finally(() => this.scheduleSweep());
    }, SWEEP_INTERVAL_MS);
  }

  private async resolveRecipient(session: Session, to: string) {
    const checked = checkName(to);
    if (!checked.ok) throw new ChatError('unknown_user', `No such user: ${to}`);
    if (checked.key === session.nickKey)
      throw new ChatError('invalid_args', 'You cannot send a file to yourself');
    const refused = (nick: string) =>
      new ChatError('file_refused', `${nick} does not accept files from you`);
    const online = this.core.findSession(checked.key);
    if (online) {
      if (refusesFilesFrom(this.core, { online, accountId: online.account?.id }, session))
        throw refused(online.nick);
      return { nick: online.nick, party: partyOf(online) };
    }
    const account = await this.core.store.accounts.findByKey(checked.key);
    if (!account) throw new ChatError('unknown_user', `No such user: ${to}`);
    if (refusesFilesFrom(this.core, { online: undefined, accountId: account.id }, session))
      throw refused(account.name);
    const party: FileParty = { kind: 'account', accountId: account.id };
    return { nick: account.name, party };
  }

  /** Deletes a sent file and tells its sender why, now or at next login. */
  private async retire(file: StoredFile, reason: FileGoneReason, by?: string): Promise<void> {
    const sender = this.sessionOf(file.senderParty);
    this.abortDownloadsOf(file);
    if (sender || file.senderParty.kind !== 'account') await this.core.store.files.delete(file.id);
    else await this.core.store.files.retire(file, reason, this.core.clock.now());
    await this.blobs.remove(file.storageName);
    if (sender)
      this.core.sendTo(sender, {
        ev: 'filegone',
        file: publicFileId(file),
        name: file.name,
        reason,
        ...(by !== undefined && { by }),
        shared: file.recipient === null,
      });
  }

  private async removeFile(file: StoredFile): Promise<void> {
    this.abortDownloadsOf(file);
    await this.core.store.files.delete(file.id);
    await this.blobs.remove(file.storageName);
  }

  private async dropUpload(upload: Upload): Promise<void> {
    if (!this.uploads.delete(upload.id)) return;
    await upload.writer.abort().catch(() => undefined);
    await this.core.store.files
      .delete(upload.file.id)
      .catch((error: unknown) =>
        this.core.logger.warn({ err: error, file: upload.file.id }, 'could not forget upload'),
      );
  }

  private endDownload(download: Download): void {
    if (download.ended) return;
    download.ended = true;
    this.downloads.delete(download.id);
    void download.reader.close().catch(() => undefined);
  }

  private abortDownload(download: Download, code: string, message: string): void {
    this.endDownload(download);
    if (!download.link.isClosed)
      download.link.outlet.send(
        this.core.events.make({ ev: 'fileabort', transfer: download.id, code, message }),
      );
  }

  private abortDownloadsOf(file: StoredFile): void {
    for (const download of [...this.downloads.values()])
      if (download.file.id === file.id)
        this.abortDownload(download, 'unknown_file', `${file.name} was removed from the server`);
  }

  private tellTransfer(session: Session, transfer: string, code: string, message: string): void {
    this.core.sendTo(session, { ev: 'fileabort', transfer, code, message });
  }

  private uploadsOf(session: Session): Upload[] {
    return [...this.uploads.values()].filter((upload) => upload.session === session);
  }

  private uploadOf(session: Session, transfer: string): Upload {
    const upload = this.uploads.get(transfer);
    if (!upload || upload.session !== session)
      throw new ChatError('unknown_transfer', `No upload ${transfer} in progress`);
    return upload;
  }

  private downloadOf(session: Session, transfer: string): Download {
    const download = this.downloads.get(transfer);
    if (!download || download.session !== session)
      throw new ChatError('unknown_transfer', `No download ${transfer} in progress`);
    return download;
  }

  private sessionOf(party: FileParty): Session | undefined {
    for (const session of this.core.onlineSessions())
      if (sameParty(party, partyOf(session))) return session;
    return undefined;
  }

  private offerEvent(file: StoredFile): EventPayload & { ev: 'file' } {
    return {
      ev: 'file',
      file: publicFileId(file),
      from: file.sender,
      name: file.name,
      size: file.size,
      expiresAt: this.expiresAt(file),
    };
  }

  private entry(file: StoredFile): FileEntry {
    return {
      file: publicFileId(file),
      name: file.name,
      size: file.size,
      sha256: file.sha256,
      from: file.sender,
      ...(file.recipient && { to: file.recipient.nick }),
      at: file.createdAt,
      expiresAt: this.expiresAt(file),
    };
  }

  private expiresAt(file: StoredFile): number {
    return file.createdAt + this.core.params['files.expiryDays'] * DAY_MS;
  }

  private newTransferId(): string {
    return `t${this.nextTransfer++}`;
  }

  /** Disk trouble fails the one transfer with a clear error; the server carries on. */
  private storageError(error: unknown, step: string): ChatError {
    const code = (error as { code?: unknown }).code;
    this.core.logger.error({ err: error, step }, 'file storage failed');
    if (code === 'ENOSPC' || code === 'EDQUOT')
      return new ChatError(
        'storage_failed',
        'The server is out of disk space; the transfer was cancelled',
      );
    return new ChatError(
      'storage_failed',
      'The server could not store the file; the transfer was cancelled',
    );
  }
}

export function partyOf(session: Session): FileParty {
  return session.account
    ? { kind: 'account', accountId: session.account.id }
    : { kind: 'guest', sessionId: session.id };
}

function sameParty(a: FileParty | undefined, b: FileParty): boolean {
  if (!a) return false;
  if (a.kind === 'account') return b.kind === 'account' && a.accountId === b.accountId;
  return b.kind === 'guest' && a.sessionId === b.sessionId;
}

function pick(files: readonly StoredFile[], ref: string, missing: string): StoredFile {
  const byId = /^f\d+$/i.test(ref)
    ? files.find((file) => publicFileId(file) === ref.toLowerCase())
    : undefined;
  const found = byId ?? files.find((file) => file.name === sanitizeFileName(ref));
  if (!found) throw new ChatError('unknown_file', missing);
  return found;
}
