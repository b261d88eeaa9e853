import { addressGroup } from '../limits/address-group.js';
import { createHash, type Hash } from 'node:crypto';
import type { BlobWriter } from '../../store/blobs.js';
import type { FileParty, StoredFile } from '../../store/store.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';
import type { DirectoryEntry } from '../directory/directory.js';
import { refusesFilesFrom } from './blocking.js';
import {
  chunkBytesFor,
  partyOf,
  publicFileId,
  sameParty,
  type FileContext,
} from './file-common.js';
import type { FileLifecycle } from './file-lifecycle.js';
import { sanitizeFileName } from './file-names.js';

/** Chunk requests a client may have unanswered during an upload. */
export const UPLOAD_WINDOW = 8;
export const MAX_UPLOADS_PER_SESSION = 4;

interface Upload {
  readonly id: string;
  readonly session: Session;
  readonly file: StoredFile;
  readonly writer: BlobWriter;
  readonly hash: Hash;
  readonly chunkBytes: number;
}

export interface FileOffer {
  readonly to?: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

/** Uploads in progress: streamed to storage, their SHA-256 checked on arrival. */
export class Uploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly ctx: FileContext,
    private readonly lifecycle: FileLifecycle,
  ) {}

  async offer(session: Session, offer: FileOffer) {
    const { core, blobs } = this.ctx;
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
    const guestAddress = session.account ? null : await this.checkGuestQuota(session, name, offer);
    const total = core.params['files.totalBytes'];
    const stored = await core.store.files.totalBytes();
    if (stored + offer.size > total)
      throw new ChatError(
        'storage_full',
        `The server's file storage is full (${total} bytes for everyone): ${name} (${offer.size} bytes) does not fit`,
      );
    await this.checkDiskReserve(name, offer.size);
    // The record comes first, then the bytes: blobs are shared by every node, and a node
    // sweeping orphans removes bytes no record owns, so bytes must never exist without one.
    const file = await core.store.files.create({
      storageName: blobs.newName(),
      name,
      size: offer.size,
      sha256: offer.sha256,
      sender: session.nick,
      senderParty: owner,
      senderAddress: guestAddress,
      recipient: recipient && { nick: recipient.nick, party: recipient.party },
      createdAt: core.clock.now(),
      node: core.bus.nodeId,
      recipientNode: recipient?.party.kind === 'guest' ? recipient.node : null,
    });
    let writer: BlobWriter;
    try {
      writer = await blobs.create(file.storageName);
    } catch (error) {
      await core.store.files.delete(file.id).catch(() => undefined);
      throw this.storageError(error, 'create');
    }
    const upload: Upload = {
      id: this.ctx.newTransferId(),
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

  /**
   * Uploads stop while the disk still has `files.minFreeBytes` left, counting what uploads
   * in progress will still write: a full disk fails chat's own writes too.
   */
  /**
   * A guest can leave and come back as a new guest at once, so its quota is its address's:
   * every guest upload from there counts, also after those guests left (shared files stay
   * for `files.expiryDays`). Returns the address key to record with the file.
   */
  private async checkGuestQuota(session: Session, name: string, offer: FileOffer): Promise<string> {
    const { core } = this.ctx;
    if (!core.params['files.guestUploads'])
      throw new ChatError(
        'account_required',
        'Guests may not upload files on this server: /register to send or share files',
      );
    const address = addressGroup(session.link?.outlet.address ?? 'unknown');
    const quota = core.params['files.quotaBytes'];
    const used = await core.store.files.guestBytesFrom(address);
    if (used + offer.size > quota)
      throw new ChatError(
        'quota_exceeded',
        `Guests from your address store ${used} bytes of their ${quota}; ${name} (${offer.size} bytes) does not fit (an account has a quota of its own)`,
        { quota, used, size: offer.size },
      );
    return address;
  }

  private async checkDiskReserve(name: string, size: number): Promise<void> {
    const reserve = this.ctx.core.params['files.minFreeBytes'];
    const free = await this.ctx.blobs.freeBytes();
    if (free === undefined) return;
    let promised = 0;
    for (const upload of this.uploads.values()) promised += upload.file.size - upload.writer.size;
    if (free - promised - size < reserve)
      throw new ChatError(
        'storage_full',
        `The server is short of disk space: ${name} (${size} bytes) cannot be taken now`,
      );
  }

  putChunk(session: Session, transfer: string, offset: number, data: string) {
    const bytes = Buffer.from(data, 'base64');
    // Padded standard base64 only. Decoding skips what is not in the alphabet and takes the
    // URL-safe one too, so the text was valid exactly when the bytes encode back to it: a
    // twentieth of what a regular expression costs over 64 KiB, a third of an upload's CPU.
    if (bytes.toString('base64') !== data)
      throw new ChatError('bad_chunk', 'Chunk data must be base64');
    return this.putBytes(session, transfer, offset, bytes);
  }

  /** The next bytes of an upload, from a chunk frame or an HTTP body (at most `chunkBytes`). */
  async putBytes(session: Session, transfer: string, offset: number, bytes: Buffer) {
    const upload = this.uploadOf(session, transfer);
    const expected = upload.writer.size;
    if (offset !== expected)
      throw new ChatError('bad_chunk', `The next chunk starts at byte ${expected}`, { expected });
    if (bytes.length === 0 || bytes.length > upload.chunkBytes)
      throw new ChatError('bad_chunk', `A chunk holds 1 to ${upload.chunkBytes} bytes`);
    if (offset + bytes.length > upload.file.size)
      throw new ChatError('bad_chunk', `The file has only ${upload.file.size} bytes`);
    try {
      await upload.writer.write(bytes);
    } catch (error) {
      await this.drop(upload);
      throw this.storageError(error, 'write');
    }
    upload.hash.update(bytes);
    this.ctx.core.telemetry.fileBytes('in', bytes.length);
    return { received: upload.writer.size };
  }

  has(session: Session): boolean {
    for (const upload of this.uploads.values()) if (upload.session === session) return true;
    return false;
  }

  isUpload(transfer: string): boolean {
    return this.uploads.has(transfer);
  }

  async finish(session: Session, transfer: string) {
    const upload = this.uploadOf(session, transfer);
    const { core } = this.ctx;
    const { file, writer } = upload;
    if (writer.size !== file.size)
      throw new ChatError('bad_chunk', `Only ${writer.size} of ${file.size} bytes arrived`, {
        expected: writer.size,
      });
    const digest = upload.hash.digest('hex');
    if (digest !== file.sha256) {
      await this.drop(upload);
      throw new ChatError('checksum_mismatch', undefined, { expected: file.sha256, got: digest });
    }
    try {
      await writer.commit();
    } catch (error) {
      await this.drop(upload);
      throw this.storageError(error, 'commit');
    }
    this.uploads.delete(upload.id);
    const recipientSession =
      file.recipient && (await this.lifecycle.sessionOf(file.recipient.party));
    if (file.recipient?.party.kind === 'guest' && !recipientSession) {
      await this.lifecycle.removeFile(file);
      throw new ChatError('unknown_user', `${file.recipient.nick} left before the file arrived`);
    }
    await core.store.files.markReady(file.id);
    const id = publicFileId(file);
    if (!file.recipient) {
      core.publish(
        { kind: 'everyone' },
        { ev: 'shared', file: id, from: session.nick, name: file.name, size: file.size },
        { exclude: session, senderKey: session.nickKey },
      );
    } else if (recipientSession) {
      core.notify(recipientSession, this.lifecycle.offerEvent({ ...file, state: 'ready' }));
    }
    return { file: id, name: file.name, size: file.size, sha256: file.sha256 };
  }

  /** After a dropped connection, where an upload of this (resumed) session stands. */
  resume(session: Session, transfer: string) {
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

  /** The file record an upload of `session` is filling. */
  fileOf(session: Session, transfer: string): StoredFile {
    return this.uploadOf(session, transfer).file;
  }

  /** Cancels `transfer` when it is an upload of `session`; false when it is not one. */
  cancel(session: Session, transfer: string): Promise<void> | false {
    const upload = this.uploads.get(transfer);
    if (!upload || upload.session !== session) return false;
    return this.drop(upload);
  }

  /** `session` left: its uploads end, and so do uploads to it when it was a guest. */
  async sessionEnded(session: Session): Promise<void> {
    for (const upload of [...this.uploads.values()]) {
      if (upload.session === session) await this.drop(upload);
      else if (
        sameParty(upload.file.recipient?.party, { kind: 'guest', guest: session.guestKey })
      ) {
        await this.drop(upload);
        this.ctx.core.sendTo(upload.session, {
          ev: 'fileabort',
          transfer: upload.id,
          code: 'unknown_user',
          message: `${session.nick} left; the transfer was cancelled`,
        });
      }
    }
  }

  dropAll(): void {
    for (const upload of [...this.uploads.values()]) void this.drop(upload);
  }

  private async drop(upload: Upload): Promise<void> {
    if (!this.uploads.delete(upload.id)) return;
    await upload.writer.abort().catch(() => undefined);
    await this.ctx.core.store.files
      .delete(upload.file.id)
      .catch((error: unknown) =>
        this.ctx.core.logger.warn({ err: error, file: upload.file.id }, 'could not forget upload'),
      );
  }

  private async resolveRecipient(session: Session, to: string) {
    const { core } = this.ctx;
    const checked = checkName(to);
    if (!checked.ok) throw new ChatError('unknown_user', `No such user: ${to}`);
    if (checked.key === session.nickKey)
      throw new ChatError('invalid_args', 'You cannot send a file to yourself');
    const refused = (nick: string) =>
      new ChatError('file_refused', `${nick} does not accept files from you`);
    const online = core.findSession(checked.key);
    if (online) {
      if (refusesFilesFrom(core, { online, accountId: online.account?.id }, session))
        throw refused(online.nick);
      return { nick: online.nick, party: partyOf(online), node: core.bus.nodeId };
    }
    const remote = await core.findRemote(checked.key);
    if (remote) {
      const accountId = remote.accountId ?? undefined;
      if (refusesFilesFrom(core, { online: undefined, accountId }, session))
        throw refused(remote.nick);
      const party: FileParty =
        remote.accountId !== null
          ? { kind: 'account', accountId: remote.accountId }
          : { kind: 'guest', guest: remoteGuestKey(remote) };
      return { nick: remote.nick, party, node: remote.node };
    }
    const account = await core.store.accounts.findByKey(checked.key);
    if (!account) throw new ChatError('unknown_user', `No such user: ${to}`);
    if (refusesFilesFrom(core, { online: undefined, accountId: account.id }, session))
      throw refused(account.name);
    const party: FileParty = { kind: 'account', accountId: account.id };
    return { nick: account.name, party, node: null };
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

  /** Disk trouble fails the one transfer with a clear error; the server carries on. */
  private storageError(error: unknown, step: string): ChatError {
    const code = (error as { code?: unknown }).code;
    this.ctx.core.logger.error({ err: error, step }, 'file storage failed');
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

/**
 * The key a guest on another node files under (its directory entry carries it). An entry
 * without one (a node that does not publish it) cannot be sent files: refused rather than
 * filed under something that would never match the guest.
 */
function remoteGuestKey(remote: DirectoryEntry): string {
  if (remote.guest === undefined)
    throw new ChatError('file_refused', `${remote.nick} cannot take files now`);
  return remote.guest;
}
