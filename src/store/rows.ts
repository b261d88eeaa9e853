/**
 * Table rows as every SQL backend reads them, and their mapping onto the store's types.
 *
 * The SQLite and PostgreSQL schemas have the same tables and column names, so the shape of a
 * row and how it becomes a store object are one piece of knowledge, kept here once. Each
 * backend keeps only what differs: its SQL, and how its driver hands a value over (both parse
 * BIGINT to numbers; SQLite joins an inbox entry's recipients into one string, PostgreSQL
 * returns an array).
 */
import type {
  Account,
  AddressLockout,
  Ban,
  CaseAction,
  CaseEntry,
  FileGoneReason,
  FileParty,
  FileState,
  FileTombstone,
  InboxEntry,
  NameFailures,
  PairLockout,
  Role,
  StoredBlock,
  StoredFile,
  StoredMessage,
  StoredRoom,
  Suspension,
} from './store.js';

export interface AccountRow {
  id: number;
  name: string;
  name_key: string;
  password_hash: string;
  role: Role;
  created_at: number;
  last_seen_at: number | null;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    nameKey: row.name_key,
    passwordHash: row.password_hash,
    role: row.role,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export interface RoomRow {
  id: number;
  name: string;
  name_key: string;
  owner_account: number | null;
  owner_name: string;
  topic: string | null;
  created_at: number;
  history_floor: number;
}

export interface MemberRow {
  room_id: number;
  account_id: number;
  name: string;
}

/** Rooms with their members; `members` must come in join order, as the store lists them. */
export function toRooms(rooms: readonly RoomRow[], members: readonly MemberRow[]): StoredRoom[] {
  const byRoom = new Map<number, { accountId: number; name: string }[]>();
  for (const member of members) {
    let list = byRoom.get(member.room_id);
    if (!list) byRoom.set(member.room_id, (list = []));
    list.push({ accountId: member.account_id, name: member.name });
  }
  return rooms.map((row) => ({
    id: row.id,
    name: row.name,
    nameKey: row.name_key,
    ownerAccountId: row.owner_account,
    ownerName: row.owner_name,
    topic: row.topic,
    createdAt: row.created_at,
    historyFloor: row.history_floor,
    members: byRoom.get(row.id) ?? [],
  }));
}

export interface BlockRow {
  account_id: number;
  blocked_key: string;
  blocked_name: string;
}

export function toBlock(row: BlockRow): StoredBlock {
  return { accountId: row.account_id, blockedKey: row.blocked_key, blockedName: row.blocked_name };
}

export interface MessageRow {
  id: number;
  ts: number;
  sender: string;
  sender_account: number | null;
  room: string | null;
  text: string;
}

/** A room message (or a lobby line: `room` null). Private messages come through the inbox. */
export function toStoredRoomMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    ts: row.ts,
    sender: row.sender,
    senderAccountId: row.sender_account,
    room: row.room,
    recipients: [],
    text: row.text,
  };
}

/** One inbox entry, with every recipient of its message already split into a list. */
export interface InboxRow {
  id: number;
  ts: number;
  sender: string;
  text: string;
  read_at: number | null;
  recipients: string[];
}

export function toInboxEntry(row: InboxRow): InboxEntry {
  return {
    id: row.id,
    ts: row.ts,
    sender: row.sender,
    to: row.recipients,
    text: row.text,
    read: row.read_at !== null,
  };
}

export interface BanRow {
  id: number;
  name_key: string;
  name: string;
  address: string | null;
  reason: string | null;
  created_at: number;
  expires_at: number | null;
  created_by: string;
}

export function toBan(row: BanRow): Ban {
  return {
    id: row.id,
    nameKey: row.name_key,
    name: row.name,
    address: row.address,
    reason: row.reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
  };
}

export interface SuspensionRow {
  name_key: string;
  name: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
}

export function toSuspension(row: SuspensionRow): Suspension {
  return {
    nameKey: row.name_key,
    name: row.name,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
  };
}

export interface CaseRow {
  id: number;
  name_key: string;
  name: string;
  action: CaseAction;
  actor: string;
  reason: string | null;
  ts: number;
  expires_at: number | null;
}

export function toCaseEntry(row: CaseRow): CaseEntry {
  return {
    id: row.id,
    nameKey: row.name_key,
    name: row.name,
    action: row.action,
    actor: row.actor,
    reason: row.reason,
    ts: row.ts,
    expiresAt: row.expires_at,
  };
}

export interface PairRow {
  name_key: string;
  address: string;
  failures: number;
  locked_until: number;
}

export interface AddressRow {
  address: string;
  failures: number;
  window_start: number;
  locked_until: number;
}

export interface NameFailuresRow {
  name_key: string;
  failures: number;
  window_start: number;
  last_at: number;
}

/**
 * `Number()` because PostgreSQL computes these in an upsert's RETURNING, where an INTEGER
 * column's arithmetic may come back as another type than the column's own; a no-op on SQLite.
 */
export const toNameFailures = (row: NameFailuresRow): NameFailures => ({
  nameKey: row.name_key,
  failures: Number(row.failures),
  windowStart: Number(row.window_start),
  lastAt: Number(row.last_at),
});

export const toPairLockout = (row: PairRow): PairLockout => ({
  nameKey: row.name_key,
  address: row.address,
  failures: row.failures,
  lockedUntil: row.locked_until,
});

export const toAddressLockout = (row: AddressRow): AddressLockout => ({
  address: row.address,
  failures: row.failures,
  windowStart: row.window_start,
  lockedUntil: row.locked_until,
});

export interface FileRow {
  id: number;
  storage_name: string;
  name: string;
  size: number;
  sha256: string;
  state: FileState;
  sender: string;
  sender_account: number | null;
  sender_guest: string | null;
  sender_address: string | null;
  recipient: string | null;
  recipient_account: number | null;
  recipient_guest: string | null;
  created_at: number;
  node: string;
  recipient_node: string | null;
}

export interface TombstoneRow {
  file_id: number;
  name: string;
  recipient: string;
  reason: FileGoneReason;
  at: number;
}

function party(account: number | null, guest: string | null): FileParty | undefined {
  if (account !== null) return { kind: 'account', accountId: account };
  if (guest !== null) return { kind: 'guest', guest };
  return undefined;
}

/** A guest sender who left owns nothing any more: a sentinel no guest key can match. */
const DETACHED: FileParty = { kind: 'guest', guest: '' };

export function toFile(row: FileRow): StoredFile {
  const recipientParty = party(row.recipient_account, row.recipient_guest);
  return {
    id: row.id,
    storageName: row.storage_name,
    name: row.name,
    size: row.size,
    sha256: row.sha256,
    state: row.state,
    sender: row.sender,
    senderParty: party(row.sender_account, row.sender_guest) ?? DETACHED,
    senderAddress: row.sender_address,
    recipient:
      row.recipient === null || !recipientParty
        ? null
        : { nick: row.recipient, party: recipientParty },
    createdAt: row.created_at,
    node: row.node,
    recipientNode: row.recipient_node,
  };
}

export function toTombstone(row: TombstoneRow): FileTombstone {
  return {
    id: row.file_id,
    name: row.name,
    recipient: row.recipient,
    reason: row.reason,
    at: row.at,
  };
}
