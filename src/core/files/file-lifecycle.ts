import type { FileEntry } from '../../protocol/files.js';
import type { FileGoneReason, FileParty, StoredFile } from '../../store/store.js';
import type { TimerHandle } from '../clock.js';
import { ChatError } from '../errors.js';
import type { EventPayload } from '../events.js';
import { nameKey } from '../names.js';
import type { DirectoryEntry } from '../directory/directory.js';
import type { Session } from '../session.js';
import type { Downloads } from './downloads.js';
import { DAY_MS, partyOf, pick, publicFileId, sameParty, type FileContext } from './file-common.js';

const SWEEP_INTERVAL_MS = 60_000;
/** Well past the three missed heartbeats (15 s) that make a node dead. */
const DEAD_NODE_GRACE_MS = 60_000;

// What a `files` reply lists: the protocol's shape.
export type { FileEntry };

/**
 * Files at rest: listing, declining, deleting, expiry and orphan sweeps, restart recovery,
 * and telling senders and recipients what became of them.
 */
export class FileLifecycle {
  private sweepTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly startedAt: number;

  constructor(
    private readonly ctx: FileContext,
    private readonly downloads: Downloads,
  ) {
    this.startedAt = ctx.core.clock.now();
  }

  async list(session: Session) {
    const store = this.ctx.core.store.files;
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
    const files = (await this.ctx.core.store.files.waitingFor(partyOf(session))).filter(
      (file) => nameKey(file.sender) === key,
    );
    return pick(files, ref, `No file "${ref}" from ${from} is waiting for you`);
  }

  async findShared(ref: string): Promise<StoredFile> {
    const files = await this.ctx.core.store.files.shared();
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
    this.ctx.core.publish(
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
    const { core } = this.ctx;
    const cutoff = core.clock.now() - core.params['files.expiryDays'] * DAY_MS;
    const expired = await core.store.files.createdBefore(cutoff);
    for (const file of expired) await this.retire(file, 'expired');
    return expired.length;
  }

  /** Tells an account that logged in which files wait for it and what became of its own. */
  loggedIn(session: Session): void {
    if (!session.account) return;
    const accountId = session.account.id;
    const { core } = this.ctx;
    void (async () => {
      const store = core.store.files;
      for (const file of await store.waitingFor({ kind: 'account', accountId }))
        core.sendTo(session, { ...this.offerEvent(file), replay: 'missed' });
      for (const note of await store.takeTombstones(accountId))
        core.sendTo(session, {
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
      core.logger.warn({ err: error, session: session.id }, 'could not list waiting files'),
    );
  }

  /** A guest's files exist only as long as the guest: nobody could claim them later. */
  async forgetGuest(session: Session): Promise<void> {
    for (const file of await this.ctx.core.store.files.forgetGuest(session.guestKey)) {
      this.downloads.abortDownloadsOf(file);
      await this.ctx.blobs.remove(file.storageName);
    }
  }

  /** Cleans up what a previous run left. */
  async recover(): Promise<void> {
    for (const file of await this.ctx.core.store.files.recoverAfterRestart(
      this.ctx.core.bus.nodeId,
    ))
      await this.ctx.blobs.remove(file.storageName);
    await this.removeOrphans();
  }

  /**
   * Deletes bytes no file record owns: left by a crash, or by records that went with a
   * deleted account (the store cascades; the bytes are ours to remove). Returns how many.
   * Safe with blobs every node shares: an upload's record is written before its bytes, and
   * the bytes are listed before the records are read, so bytes of another node's upload in
   * progress always have their record here.
   */
  async removeOrphans(): Promise<number> {
    const { blobs, core } = this.ctx;
    const names = await blobs.list();
    const known = await core.store.files.storageNames();
    let removed = 0;
    for (const name of names) {
      if (known.has(name)) continue;
      await blobs.remove(name);
      removed++;
    }
    return removed;
  }

  /**
   * Frees what nodes no longer alive left: their unfinished uploads and their guests'
   * files. That covers a cluster node that died for good, and this installation's own
   * earlier run after a crash when node ids are random per start (the embedded default).
   * Only once this node has run long enough to have heard every live node's heartbeat, and
   * only uploads older than that, so a node that just started is never taken for dead.
   */
  async releaseDeadNodes(): Promise<number> {
    const { core } = this.ctx;
    const now = core.clock.now();
    if (now - this.startedAt < DEAD_NODE_GRACE_MS) return 0;
    const released = await core.store.files.releaseNodes(
      core.nodes.liveness.liveNodes(),
      now - DEAD_NODE_GRACE_MS,
    );
    for (const file of released) {
      this.downloads.abortDownloadsOf(file);
      await this.ctx.blobs.remove(file.storageName);
    }
    return released.length;
  }

  scheduleSweep(): void {
    if (this.stopped) return;
    const { core } = this.ctx;
    this.sweepTimer = core.clock.setTimeout(() => {
      void this.sweepExpired()
        .then(() => this.releaseDeadNodes())
        .then(() => this.removeOrphans())
        .catch((error: unknown) => core.logger.warn({ err: error }, 'file sweep failed'))
        .finally(() => this.scheduleSweep());
    }, SWEEP_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) this.ctx.core.clock.clearTimeout(this.sweepTimer);
  }

  /** Deletes a sent file and tells its sender why, now or at next login. */
  async retire(file: StoredFile, reason: FileGoneReason, by?: string): Promise<void> {
    const { core, blobs } = this.ctx;
    const sender = await this.sessionOf(file.senderParty);
    this.downloads.abortDownloadsOf(file);
    if (sender || file.senderParty.kind !== 'account') await core.store.files.delete(file.id);
    else await core.store.files.retire(file, reason, core.clock.now());
    await blobs.remove(file.storageName);
    if (sender)
      core.notify(sender, {
        ev: 'filegone',
        file: publicFileId(file),
        name: file.name,
        reason,
        ...(by !== undefined && { by }),
        shared: file.recipient === null,
      });
  }

  async removeFile(file: StoredFile): Promise<void> {
    this.downloads.abortDownloadsOf(file);
    await this.ctx.core.store.files.delete(file.id);
    await this.ctx.blobs.remove(file.storageName);
  }

  /** The session of a file's party online now, on this node or another. */
  async sessionOf(party: FileParty): Promise<Session | DirectoryEntry | undefined> {
    const { core } = this.ctx;
    for (const session of core.onlineSessions())
      if (sameParty(party, partyOf(session))) return session;
    const entry =
      party.kind === 'account'
        ? await core.directory.findAccount(party.accountId)
        : (await core.directory.list()).find((each) => each.guest === party.guest);
    return entry && entry.node !== core.bus.nodeId ? entry : undefined;
  }

  offerEvent(file: StoredFile): EventPayload & { ev: 'file' } {
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
    return file.createdAt + this.ctx.core.params['files.expiryDays'] * DAY_MS;
  }
}
