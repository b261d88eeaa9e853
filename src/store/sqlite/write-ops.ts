import type Database from 'better-sqlite3';
import type {
  AuditEntry,
  FileGoneReason,
  ModerationSwitch,
  NewAccount,
  NewBan,
  NewCaseEntry,
  NewFile,
  NewRoom,
  StoredBlock,
  StoredFile,
  Suspension,
} from '../store.js';
import {
  type AddressRow,
  type FileRow,
  type NameFailuresRow,
  type PairRow,
  type TombstoneRow,
  toFile,
  toPairLockout,
  toTombstone,
} from '../rows.js';
import { prepared } from './database.js';
import { nextId } from './id-high-water.js';
import { appendMessage } from './message-writes.js';

/**
 * Every write the SQLite store makes, by name. They run on the writer thread
 * (`writer-thread.ts`), on its own connection, inside the group commit of the batch they
 * arrived in: the event loop never runs an `INSERT`, a `COMMIT` or its fsync. Arguments
 * and results cross between threads by structured clone, so they are plain data; a
 * read-modify-write that must be atomic is one operation here, never a read on the main
 * thread followed by a write.
 */
export const WRITE_OPS = {
  /** Nothing: a marker whose commit means every write queued before it is committed. */
  barrier: () => undefined,

  // ---- messages -------------------------------------------------------------------
  /** The message and its recipients; resolves with the message's id. */
  'messages.append': appendMessage,

  // ---- accounts -------------------------------------------------------------------
  'accounts.create': (db: Database.Database, account: NewAccount): number =>
    Number(
      prepared(
        db,
        `INSERT INTO accounts (id, name, name_key, name_skeleton, password_hash, role, created_at)
         VALUES (${nextId('accounts')}, ?, ?, ?, ?, ?, ?)`,
      ).run(
        account.name,
        account.nameKey,
        account.nameSkeleton,
        account.passwordHash,
        account.role,
        account.createdAt,
      ).lastInsertRowid,
    ),
  /** Accounts made before skeletons were kept get theirs (once, at start). */
  'accounts.setSkeletons': (
    db: Database.Database,
    skeletons: readonly (readonly [id: number, skeleton: string])[],
  ) => {
    const update = prepared(
      db,
      'UPDATE accounts SET name_skeleton = ? WHERE id = ? AND name_skeleton IS NULL',
    );
    for (const [id, skeleton] of skeletons) update.run(skeleton, id);
  },
  'accounts.setPasswordHash': (db: Database.Database, id: number, passwordHash: string) => {
    prepared(db, 'UPDATE accounts SET password_hash = ? WHERE id = ?').run(passwordHash, id);
  },
  'accounts.setLastSeen': (db: Database.Database, id: number, at: number) => {
    prepared(db, 'UPDATE accounts SET last_seen_at = ? WHERE id = ?').run(at, id);
  },
  /**
   * One statement for every account online, whatever their number (no bound-variable
   * limit). A logout is written at once, so it may land first: `last_seen_at < ?` keeps it
   * rather than moving the time back to this checkpoint.
   */
  'accounts.touchLastSeen': (db: Database.Database, ids: readonly number[], at: number) => {
    prepared(
      db,
      `UPDATE accounts SET last_seen_at = ?
        WHERE id IN (SELECT value FROM json_each(?))
          AND (last_seen_at IS NULL OR last_seen_at < ?)`,
    ).run(at, JSON.stringify(ids), at);
  },
  'accounts.delete': (db: Database.Database, id: number) => {
    prepared(db, 'DELETE FROM accounts WHERE id = ?').run(id);
  },

  // ---- rooms ----------------------------------------------------------------------
  'rooms.create': (db: Database.Database, room: NewRoom): number =>
    Number(
      prepared(
        db,
        `INSERT INTO rooms (id, name, name_key, owner_account, owner_name, topic, created_at, history_floor)
         VALUES (${nextId('rooms')}, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        room.name,
        room.nameKey,
        room.ownerAccountId,
        room.ownerName,
        room.topic,
        room.createdAt,
        room.historyFloor,
      ).lastInsertRowid,
    ),
  'rooms.delete': (db: Database.Database, id: number) => {
    prepared(db, 'DELETE FROM rooms WHERE id = ?').run(id);
  },
  'rooms.setTopic': (db: Database.Database, id: number, topic: string | null) => {
    prepared(db, 'UPDATE rooms SET topic = ? WHERE id = ?').run(topic, id);
  },
  'rooms.addMember': (db: Database.Database, roomId: number, accountId: number, at: number) => {
    prepared(
      db,
      'INSERT OR IGNORE INTO room_members (room_id, account_id, joined_at) VALUES (?, ?, ?)',
    ).run(roomId, accountId, at);
  },
  'rooms.removeMember': (db: Database.Database, roomId: number, accountId: number) => {
    prepared(db, 'DELETE FROM room_members WHERE room_id = ? AND account_id = ?').run(
      roomId,
      accountId,
    );
  },

  // ---- blocks ---------------------------------------------------------------------
  'blocks.add': (db: Database.Database, block: StoredBlock, at: number) => {
    prepared(
      db,
      `INSERT OR IGNORE INTO blocks (account_id, blocked_key, blocked_name, created_at)
       VALUES (?, ?, ?, ?)`,
    ).run(block.accountId, block.blockedKey, block.blockedName, at);
  },
  'blocks.remove': (db: Database.Database, accountId: number, blockedKey: string) => {
    prepared(db, 'DELETE FROM blocks WHERE account_id = ? AND blocked_key = ?').run(
      accountId,
      blockedKey,
    );
  },

  // ---- inbox ----------------------------------------------------------------------
  'inbox.markDelivered': (
    db: Database.Database,
    accountId: number,
    ids: readonly number[],
    at: number,
  ) => {
    const statement = prepared(
      db,
      `UPDATE message_recipients SET delivered_at = @at
        WHERE message_id = @id AND recipient_account = @account AND delivered_at IS NULL`,
    );
    for (const id of ids) statement.run({ at, id, account: accountId });
  },
  'inbox.markRead': (
    db: Database.Database,
    accountId: number,
    ids: readonly number[],
    at: number,
  ) => {
    const statement = prepared(
      db,
      `UPDATE message_recipients SET read_at = @at, delivered_at = coalesce(delivered_at, @at)
        WHERE message_id = @id AND recipient_account = @account AND read_at IS NULL`,
    );
    for (const id of ids) statement.run({ at, id, account: accountId });
  },

  // ---- settings, audit, cases -----------------------------------------------------
  'settings.setLive': (db: Database.Database, key: string, value: string) => {
    prepared(
      db,
      'INSERT INTO live_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  },
  'settings.removeLive': (db: Database.Database, key: string) => {
    prepared(db, 'DELETE FROM live_settings WHERE key = ?').run(key);
  },
  'audit.record': (db: Database.Database, entry: AuditEntry) => {
    prepared(
      db,
      'INSERT INTO audit_log (ts, actor, action, target, details) VALUES (?, ?, ?, ?, ?)',
    ).run(entry.ts, entry.actor, entry.action, entry.target, entry.details);
  },
  'idBlocks.claim': (db: Database.Database, node: string, at: number): number =>
    Number(
      prepared(db, 'INSERT INTO id_blocks (node, claimed_at) VALUES (?, ?)').run(node, at)
        .lastInsertRowid,
    ),
  'cases.add': (db: Database.Database, entry: NewCaseEntry): number =>
    Number(
      prepared(
        db,
        `INSERT INTO moderation_cases (name_key, name, action, actor, reason, ts, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        entry.nameKey,
        entry.name,
        entry.action,
        entry.actor,
        entry.reason,
        entry.ts,
        entry.expiresAt,
      ).lastInsertRowid,
    ),

  // ---- moderation -----------------------------------------------------------------
  'moderation.addBan': (db: Database.Database, ban: NewBan): number =>
    Number(
      prepared(
        db,
        `INSERT INTO bans (id, name_key, name, address, reason, created_at, expires_at, created_by)
         VALUES (${nextId('bans')}, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        ban.nameKey,
        ban.name,
        ban.address,
        ban.reason,
        ban.createdAt,
        ban.expiresAt,
        ban.createdBy,
      ).lastInsertRowid,
    ),
  'moderation.removeBans': (db: Database.Database, nameKey: string): number =>
    prepared(db, 'DELETE FROM bans WHERE name_key = ?').run(nameKey).changes,
  'moderation.pruneBans': (db: Database.Database, now: number) => {
    prepared(db, 'DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
  },
  'moderation.addSuspension': (db: Database.Database, suspension: Suspension) => {
    prepared(
      db,
      `INSERT INTO suspensions (name_key, name, created_at, created_by, expires_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name_key) DO NOTHING`,
    ).run(
      suspension.nameKey,
      suspension.name,
      suspension.createdAt,
      suspension.createdBy,
      suspension.expiresAt,
    );
  },
  'moderation.removeSuspension': (db: Database.Database, nameKey: string): boolean =>
    prepared(db, 'DELETE FROM suspensions WHERE name_key = ?').run(nameKey).changes > 0,
  'moderation.recordAddress': (
    db: Database.Database,
    nameKey: string,
    address: string,
    at: number,
  ) => {
    prepared(
      db,
      `INSERT INTO name_addresses (name_key, address, last_used_at) VALUES (?, ?, ?)
         ON CONFLICT (name_key) DO UPDATE SET address = excluded.address,
           last_used_at = excluded.last_used_at`,
    ).run(nameKey, address, at);
  },
  'moderation.setSwitch': (db: Database.Database, name: ModerationSwitch, on: boolean) => {
    prepared(
      db,
      `INSERT INTO moderation_switches (name, is_on) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET is_on = excluded.is_on`,
    ).run(name, on ? 1 : 0);
  },

  // ---- files ----------------------------------------------------------------------
  'files.create': (db: Database.Database, file: NewFile): number => {
    const sender = file.senderParty;
    const recipient = file.recipient?.party;
    return Number(
      prepared(
        db,
        `INSERT INTO files (storage_name, name, size, sha256, state, sender, sender_account,
           sender_guest, sender_address, recipient, recipient_account, recipient_guest,
           created_at, node, recipient_node)
         VALUES (?, ?, ?, ?, 'uploading', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        file.storageName,
        file.name,
        file.size,
        file.sha256,
        file.sender,
        sender.kind === 'account' ? sender.accountId : null,
        sender.kind === 'guest' ? sender.guest : null,
        file.senderAddress,
        file.recipient?.nick ?? null,
        recipient?.kind === 'account' ? recipient.accountId : null,
        recipient?.kind === 'guest' ? recipient.guest : null,
        file.createdAt,
        file.node,
        recipient?.kind === 'guest' ? file.recipientNode : null,
      ).lastInsertRowid,
    );
  },
  'files.markReady': (db: Database.Database, id: number) => {
    prepared(db, `UPDATE files SET state = 'ready' WHERE id = ?`).run(id);
  },
  'files.delete': (db: Database.Database, id: number) => {
    prepared(db, 'DELETE FROM files WHERE id = ?').run(id);
  },
  'files.retire': (db: Database.Database, file: StoredFile, reason: FileGoneReason, at: number) => {
    prepared(db, 'DELETE FROM files WHERE id = ?').run(file.id);
    // recipient '' marks a shared file.
    if (file.senderParty.kind === 'account')
      prepared(
        db,
        `INSERT INTO file_tombstones (sender_account, file_id, name, recipient, reason, at)
           VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(file.senderParty.accountId, file.id, file.name, file.recipient?.nick ?? '', reason, at);
  },
  'files.takeTombstones': (db: Database.Database, accountId: number) => {
    const rows = prepared(
      db,
      'SELECT * FROM file_tombstones WHERE sender_account = ? ORDER BY id',
    ).all(accountId) as TombstoneRow[];
    prepared(db, 'DELETE FROM file_tombstones WHERE sender_account = ?').run(accountId);
    return rows.map(toTombstone);
  },
  'files.forgetGuest': (db: Database.Database, guest: string): StoredFile[] => {
    const rows = prepared(db, 'SELECT * FROM files WHERE recipient_guest = ?').all(
      guest,
    ) as FileRow[];
    prepared(db, 'DELETE FROM files WHERE recipient_guest = ?').run(guest);
    prepared(db, 'UPDATE files SET sender_guest = NULL WHERE sender_guest = ?').run(guest);
    return rows.map(toFile);
  },
  // Only the restarting node's rows (and rows from before nodes were recorded, node '').
  'files.recoverAfterRestart': (db: Database.Database, node: string): StoredFile[] => {
    const where = `(state = 'uploading' AND node IN (:node, ''))
      OR (recipient_guest IS NOT NULL AND coalesce(recipient_node, '') IN (:node, ''))`;
    const rows = prepared(db, `SELECT * FROM files WHERE ${where} ORDER BY id`).all({
      node,
    }) as FileRow[];
    prepared(db, `DELETE FROM files WHERE ${where}`).run({ node });
    prepared(
      db,
      `UPDATE files SET sender_guest = NULL
        WHERE sender_guest IS NOT NULL AND node IN (:node, '')`,
    ).run({ node });
    return rows.map(toFile);
  },
  // Rows of nodes not alive: their uploads begun before `before`, their guests' files.
  'files.releaseNodes': (db: Database.Database, live: string[], before: number): StoredFile[] => {
    const params = { live: JSON.stringify(live), before };
    const gone = (column: string) =>
      `coalesce(${column}, '') NOT IN (SELECT value FROM json_each(:live))`;
    const where = `(state = 'uploading' AND created_at < :before AND ${gone('node')})
      OR (recipient_guest IS NOT NULL AND ${gone('recipient_node')})`;
    const rows = prepared(db, `SELECT * FROM files WHERE ${where} ORDER BY id`).all(
      params,
    ) as FileRow[];
    prepared(db, `DELETE FROM files WHERE ${where}`).run(params);
    prepared(
      db,
      `UPDATE files SET sender_guest = NULL WHERE sender_guest IS NOT NULL AND ${gone('node')}`,
    ).run({ live: params.live });
    return rows.map(toFile);
  },

  // ---- login guard ----------------------------------------------------------------
  'loginGuard.recordPairFailure': (
    db: Database.Database,
    nameKey: string,
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number },
  ) => {
    const { failures } = prepared(
      db,
      `INSERT INTO login_failures (name_key, address, failures, last_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (name_key, address)
       DO UPDATE SET failures = failures + 1, last_at = excluded.last_at
       RETURNING failures`,
    ).get(nameKey, address, now) as { failures: number };
    if (failures < rule.attempts) {
      const row = prepared(
        db,
        'SELECT * FROM login_failures WHERE name_key = ? AND address = ?',
      ).get(nameKey, address) as PairRow;
      return toPairLockout(row);
    }
    prepared(
      db,
      'UPDATE login_failures SET failures = 0, locked_until = ? WHERE name_key = ? AND address = ?',
    ).run(now + rule.lockMs, nameKey, address);
    return { nameKey, address, failures: 0, lockedUntil: now + rule.lockMs };
  },
  'loginGuard.recordAddressFailure': (
    db: Database.Database,
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number; windowMs: number },
  ) => {
    const row = prepared(db, 'SELECT * FROM address_failures WHERE address = ?').get(address) as
      AddressRow | undefined;
    const fresh = !row || now - row.window_start >= rule.windowMs;
    const failures = fresh ? 1 : row.failures + 1;
    const windowStart = fresh ? now : row.window_start;
    const lockedUntil =
      failures >= rule.attempts ? now + rule.lockMs : fresh ? 0 : row.locked_until;
    prepared(
      db,
      `INSERT INTO address_failures (address, failures, window_start, locked_until)
       VALUES (?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET failures = excluded.failures,
         window_start = excluded.window_start, locked_until = excluded.locked_until`,
    ).run(address, failures, windowStart, lockedUntil);
    return { address, failures, windowStart, lockedUntil };
  },
  'loginGuard.clearPair': (db: Database.Database, nameKey: string, address: string) => {
    prepared(db, 'DELETE FROM login_failures WHERE name_key = ? AND address = ?').run(
      nameKey,
      address,
    );
  },
  /**
   * Takes a guess at a name if the row is still the one the main thread decided on
   * (`seen`, null for none): the decision (`until`) is the caller's function of that row,
   * which cannot cross to this thread. A changed row answers `stale`, and the caller reads
   * again and decides again: the check and the write stay one atomic step.
   */
  'loginGuard.takeNameAttempt': (
    db: Database.Database,
    nameKey: string,
    now: number,
    windowMs: number,
    seen: NameFailuresRow | null,
    until: number,
  ) => {
    const row = (prepared(db, 'SELECT * FROM name_failures WHERE name_key = ?').get(nameKey) ??
      null) as NameFailuresRow | null;
    const same =
      row === seen ||
      (row !== null &&
        seen !== null &&
        row.failures === seen.failures &&
        row.window_start === seen.window_start &&
        row.last_at === seen.last_at);
    if (!same) return { stale: true as const };
    if (until > now) return { taken: false as const, until };
    // No failures left (all refunded) starts a new window, as an expired one does.
    const fresh = !row || row.failures === 0 || now - row.window_start >= windowMs;
    const failures = fresh ? 1 : row.failures + 1;
    const windowStart = fresh ? now : row.window_start;
    prepared(
      db,
      `INSERT INTO name_failures (name_key, failures, window_start, last_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name_key) DO UPDATE SET failures = excluded.failures,
         window_start = excluded.window_start, last_at = excluded.last_at`,
    ).run(nameKey, failures, windowStart, now);
    return { taken: true as const, failures: { nameKey, failures, windowStart, lastAt: now } };
  },
  'loginGuard.refundNameAttempt': (db: Database.Database, nameKey: string) => {
    prepared(
      db,
      'UPDATE name_failures SET failures = failures - 1 WHERE name_key = ? AND failures > 0',
    ).run(nameKey);
  },
  'loginGuard.recordKnownAddress': (
    db: Database.Database,
    nameKey: string,
    address: string,
    at: number,
  ) => {
    prepared(
      db,
      `INSERT INTO known_addresses (name_key, address, last_success) VALUES (?, ?, ?)
       ON CONFLICT (name_key, address) DO UPDATE SET last_success = excluded.last_success`,
    ).run(nameKey, address, at);
  },
  'loginGuard.addUnreported': (
    db: Database.Database,
    accountId: number,
    address: string,
    at: number,
  ) => {
    prepared(
      db,
      `INSERT INTO unreported_failures (account_id, address, count, last_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (account_id, address)
       DO UPDATE SET count = count + 1, last_at = excluded.last_at`,
    ).run(accountId, address, at);
  },
  'loginGuard.takeUnreported': (db: Database.Database, accountId: number) => {
    const rows = prepared(
      db,
      'SELECT address, count, last_at FROM unreported_failures WHERE account_id = ? ORDER BY last_at',
    ).all(accountId) as Array<{ address: string; count: number; last_at: number }>;
    if (rows.length > 0)
      prepared(db, 'DELETE FROM unreported_failures WHERE account_id = ?').run(accountId);
    return rows.map((row) => ({ address: row.address, count: row.count, lastAt: row.last_at }));
  },
  'loginGuard.prune': (
    db: Database.Database,
    now: number,
    before: number,
    knownBefore: number | null,
  ) => {
    prepared(db, 'DELETE FROM login_failures WHERE locked_until <= ? AND last_at < ?').run(
      now,
      before,
    );
    prepared(db, 'DELETE FROM address_failures WHERE locked_until <= ? AND window_start < ?').run(
      now,
      before,
    );
    prepared(db, 'DELETE FROM name_failures WHERE window_start < ?').run(before);
    if (knownBefore !== null)
      prepared(db, 'DELETE FROM known_addresses WHERE last_success < ?').run(knownBefore);
  },

  // ---- added later, at the end: writes are packed by their index in this table
  // (write-packing.ts), so appending leaves every earlier operation's index as it was.
  'inbox.markUndelivered': (db: Database.Database, accountId: number, ids: readonly number[]) => {
    const statement = prepared(
      db,
      `UPDATE message_recipients SET delivered_at = NULL, read_at = NULL
        WHERE message_id = @id AND recipient_account = @account`,
    );
    for (const id of ids) statement.run({ id, account: accountId });
  },
  'inbox.markUndeliveredSince': (db: Database.Database, accountId: number, sinceTs: number) => {
    // The account's rows by its index, each message's time by its key.
    prepared(
      db,
      `UPDATE message_recipients SET delivered_at = NULL, read_at = NULL
        WHERE recipient_account = @account
          AND (delivered_at IS NOT NULL OR read_at IS NOT NULL)
          AND (SELECT ts FROM messages WHERE messages.id = message_id) >= @since`,
    ).run({ account: accountId, since: sinceTs });
  },
} as const;

export type WriteOps = typeof WRITE_OPS;
export type WriteOpName = keyof WriteOps;
/** An operation's arguments after the connection. */
export type WriteArgs<K extends WriteOpName> = WriteOps[K] extends (
  db: Database.Database,
  ...args: infer A
) => unknown
  ? A
  : [];
export type WriteResult<K extends WriteOpName> = ReturnType<WriteOps[K]>;
