import type { Telemetry } from '../telemetry/telemetry.js';
import type { BlobStore } from './blobs.js';
import type { FileStore } from './file-records.js';

/**
 * The persistence contract. The chat core talks only to these interfaces; each backend
 * (SQLite, PostgreSQL) implements them in its own folder and passes the one contract suite
 * (test/store/contract.ts). Feature areas get their own sub-store, so a feature adds a file
 * rather than growing one god interface.
 *
 * What every method of every sub-store guarantees, and all a caller may rely on:
 * - **Durable before resolve.** A write's promise resolves only once the write is
 *   committed (it survives a crash of the process or the machine); it rejects when the
 *   write was not stored (`StoreUnavailableError`, `StoreConflictError`). Nothing may be
 *   acknowledged or delivered on a write that has not resolved.
 * - **Read after commit.** A read that begins after a write resolved sees that write (on
 *   every node sharing the backend). A read may also see writes that have not resolved
 *   yet, or were made after it was called: it answers at some instant between its call
 *   and its resolution, not at the instant of the call.
 * - **Ids unique for ever.** Every id a store hands out (messages, accounts, rooms, files,
 *   bans, cases, audit entries) is never handed out again, by any node, after a delete or a
 *   restart. A write that begins after another resolved gets a greater id, and one that
 *   begins after a read resolved gets an id greater than every id that read saw (a room's
 *   history floor). Nothing more: overlapping writes, on one node or several, may commit
 *   in another order than their ids, so a read may see an id while a smaller one is still
 *   to commit. Compare ids to recognise a row, or against a bound read before the write
 *   began; never take "the newest id I have" to mean "every smaller one is here".
 * - **No call order.** Calls that overlap may reach the backend, commit and resolve in any
 *   order, and ids of overlapping appends need not follow call order. A caller that needs
 *   an order keeps it itself: per-sender order is `SenderOrder` in the core; replays
 *   subscribe first, then read, and drop duplicates by id (`Session.holdEvents`).
 * - **Atomic steps.** Each method is one atomic step (a batch of appends may share a
 *   transaction, but one failing append fails alone); read-modify-write rules that must
 *   hold under concurrency are passed in (see `LoginGuardStore`), never done by the caller.
 *
 * `withLatency` (src/store/latency-store.ts, `CONFAB_TEST_STORE_LATENCY`) wraps any store
 * so that it promises exactly this and no more; the suite runs the ordering, history and
 * backlog tests under it.
 */
export interface Store {
  readonly messages: MessageStore;
  readonly accounts: AccountStore;
  readonly rooms: RoomStore;
  readonly blocks: BlockStore;
  readonly inbox: InboxStore;
  readonly presence: PresenceStore;
  readonly files: FileStore;
  readonly moderation: ModerationStore;
  readonly settings: SettingsStore;
  readonly audit: AuditStore;
  readonly cases: CaseStore;
  readonly loginGuard: LoginGuardStore;
  readonly idBlocks: IdBlockStore;
  /**
   * Reports each commit (its time and how many writes it carried) to the operator's
   * metrics from now on; the composition root calls it once, whatever the backend.
   */
  instrument(telemetry: Telemetry): void;
  /**
   * Resolves when the backend answers a trivial query now, rejects when it does not
   * (`/readyz`: a node whose database is gone takes no new clients).
   */
  ping(): Promise<void>;
  /** Flushes pending writes and releases the backend. */
  close(): Promise<void>;
  /**
   * Where file bytes go when this backend can hold them for every node sharing it (the
   * cluster). Absent: the server keeps them in the data directory's `files` folder.
   */
  readonly blobs?: BlobStore;
}

export type Role = 'user' | 'admin';

export interface NewMessage {
  readonly ts: number;
  readonly sender: string;
  readonly senderAccountId: number | null;
  /** Room key for a room message; null for a private message. */
  readonly room: string | null;
  readonly recipients: readonly MessageRecipient[];
  readonly text: string;
}

export interface MessageRecipient {
  readonly nick: string;
  readonly accountId: number | null;
  /**
   * `live`: the recipient was online and got it now (delivered and read at once).
   * `stored`: an offline account; it waits, unread, for the next login and `/inbox`.
   */
  readonly delivery: 'live' | 'stored';
  /**
   * A guest recipient's key (`Session.guestKey`: made for its session alone), by which
   * `InboxStore.forGuest` reads its private messages back; null (or absent) for an account.
   */
  readonly guest?: string | null | undefined;
}

export interface StoredMessage extends NewMessage {
  readonly id: number;
}

/** Told the outcome of a write (`MessageStore.appendThen`). */
export interface CommitListener<T> {
  /** The write is committed; `value` is what the promise form resolves with. */
  committed(value: T): void;
  /** The write was not stored (what the promise form rejects with). */
  failed(error: Error): void;
}

export interface MessageStore {
  /**
   * True when this store commits one node's appends in the order they were called, ids
   * growing in that order, and resolves them in that order (one writer, or one batch in
   * flight). The contract does not ask it ("No call order" above), and the core relies on
   * it for one thing only: a node alone on such a store fans messages out in id order, so
   * a client's newest message id (`seenMid`) says what it has seen (`ChatCore.idOrdered`).
   */
  readonly appendsInOrder: boolean;
  /**
   * Durably stores a message. The promise resolves only once the message is committed
   * (writes are grouped per tick, so many appends share one commit), and rejects when it
   * could not be stored: nothing may be acknowledged or delivered before it resolves.
   */
  append(message: NewMessage): Promise<StoredMessage>;
  /**
   * `append` with its outcome told to `listener` instead of a promise, on the same terms:
   * `committed` only once the message is committed, `failed` when it was not stored,
   * exactly one of them, once, and never before this call has returned. For the message
   * path, where a promise and its reactions were a good part of what each message keeps
   * alive until its commit; the listener is usually an object the caller has anyway.
   */
  appendThen(message: NewMessage, listener: CommitListener<StoredMessage>): void;
  /**
   * The last `limit` messages of a room, oldest first, with ids below `beforeId` and above
   * `afterId` (a room's history floor, so a re-created room does not inherit old history).
   */
  recentInRoom(
    room: string,
    limit: number,
    beforeId?: number,
    afterId?: number,
  ): Promise<StoredMessage[]>;
  /**
   * The first `limit` messages of a room with ids above `afterId` and below `beforeId`,
   * oldest first: history read forwards from a point (IRC's `CHATHISTORY AFTER`).
   */
  firstInRoom(
    room: string,
    limit: number,
    afterId: number,
    beforeId?: number,
  ): Promise<StoredMessage[]>;
  /**
   * What an account missed while away: of a room's messages sent (`ts`) at or after
   * `sinceTs` with ids in (`afterId`, `upToId`], the `limit` sent last, in id order. Every
   * message sent since then is a candidate whatever its id: ids need not follow send times
   * (one stamped earlier may commit later, on another node or behind a slow store).
   */
  missedInRoom(
    room: string,
    window: { sinceTs: number; afterId: number; upToId: number },
    limit: number,
  ): Promise<StoredMessage[]>;
  /**
   * The greatest id of a committed message (0 when none), as of some instant between the
   * call and its resolution. A message committed before the call has an id at or below
   * it; one not yet visible then has an id above it or is still to be fanned out, so a
   * login's backlog uses it as its horizon and drops live duplicates by id.
   */
  lastId(): Promise<number>;
  count(): Promise<number>;
}

/** A room made by an account: it and its account members survive restarts. */
export interface StoredRoom {
  readonly id: number;
  readonly name: string;
  readonly nameKey: string;
  readonly ownerAccountId: number | null;
  readonly ownerName: string;
  readonly topic: string | null;
  readonly createdAt: number;
  /** Messages of this room with ids at or below this belong to an earlier room of that name. */
  readonly historyFloor: number;
  readonly members: readonly { readonly accountId: number; readonly name: string }[];
}

export type NewRoom = Omit<StoredRoom, 'id' | 'members'>;

export interface RoomStore {
  /** Every persistent room with its account members (loaded once at start). */
  list(): Promise<StoredRoom[]>;
  /** Rejects with `StoreConflictError` when the name is taken. */
  create(room: NewRoom): Promise<StoredRoom>;
  delete(id: number): Promise<void>;
  setTopic(id: number, topic: string | null): Promise<void>;
  addMember(roomId: number, accountId: number, at: number): Promise<void>;
  removeMember(roomId: number, accountId: number): Promise<void>;
}

export interface StoredBlock {
  readonly accountId: number;
  readonly blockedKey: string;
  readonly blockedName: string;
}

export interface BlockStore {
  /** Every account's blocks (loaded once at start: delivery filters synchronously). */
  list(): Promise<StoredBlock[]>;
  add(block: StoredBlock, at: number): Promise<void>;
  remove(accountId: number, blockedKey: string): Promise<void>;
}

/** A private message as one recipient's inbox sees it. */
export interface InboxEntry {
  readonly id: number;
  readonly ts: number;
  readonly sender: string;
  /** Every recipient of the message, as sent. */
  readonly to: readonly string[];
  readonly text: string;
  readonly read: boolean;
}

export interface InboxStore {
  unreadCount(accountId: number): Promise<number>;
  /** Stored messages never yet delivered, ids up to `upToId`, oldest first. */
  undelivered(accountId: number, upToId: number): Promise<InboxEntry[]>;
  markDelivered(accountId: number, ids: readonly number[], at: number): Promise<void>;
  /** Unread messages, oldest first (or, with `all`, the newest `limit` read or not). */
  list(accountId: number, options: { all: boolean; limit: number }): Promise<InboxEntry[]>;
  markRead(accountId: number, ids: readonly number[], at: number): Promise<void>;
  /**
   * The account never got these messages after all (they waited for a resume of its
   * session that never came): they are its stored messages again, neither delivered nor
   * read, for its next login's backlog and `/inbox`. Ids of messages the account is not a
   * recipient of change nothing.
   */
  markUndelivered(accountId: number, ids: readonly number[]): Promise<void>;
  /**
   * `markUndelivered` for every private message to the account sent (`ts`) at or after
   * `sinceTs`: the account's session was away (its connection lost) from then until it
   * ended without a resume, so it was shown none of them, even those its away log could
   * no longer hold. Other recipients' copies and earlier messages change nothing.
   */
  markUndeliveredSince(accountId: number, sinceTs: number): Promise<void>;
  /**
   * A guest's private messages, by its key (`MessageRecipient.guest`): of those with ids in
   * (`afterId`, `upToId`], the `limit` with the greatest ids, oldest first, each as an
   * inbox entry (`read` as stored). A guest has no inbox, but when its node dies its
   * session's log dies too, and the node it resumes on rebuilds what it missed from here.
   * Messages to another session of the same nickname, or to an account, are never among
   * them; nor are messages stored without a key (before keys were kept).
   */
  forGuest(
    guest: string,
    window: { readonly afterId: number; readonly upToId: number },
    limit: number,
  ): Promise<InboxEntry[]>;
}

export interface PresenceStore {
  /** Accounts last seen (their logout, or a checkpoint while online) at or after `since`. */
  accountsSeenSince(
    since: number,
  ): Promise<{ readonly name: string; readonly nameKey: string; readonly lastSeenAt: number }[]>;
}

export interface Account {
  readonly id: number;
  readonly name: string;
  readonly nameKey: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly lastSeenAt: number | null;
}

export interface NewAccount {
  readonly name: string;
  readonly nameKey: string;
  /**
   * The name's confusable skeleton (`nameSkeleton` in the core): names that look alike
   * share one, so a guest cannot pass as `аdmin` with a Cyrillic а. Not unique: accounts
   * made before it was kept may share one.
   */
  readonly nameSkeleton: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly createdAt: number;
}

export interface AccountStore {
  /** Rejects with `StoreConflictError` when the name is taken. */
  create(account: NewAccount): Promise<Account>;
  findByKey(nameKey: string): Promise<Account | undefined>;
  /** An account (the oldest, if several) whose name has this confusable skeleton. */
  findBySkeleton(nameSkeleton: string): Promise<Account | undefined>;
  /**
   * Gives every account stored without a skeleton (made before skeletons were kept) the
   * one `skeletonOf` computes from its name key; returns how many. Run once at start.
   */
  fillSkeletons(skeletonOf: (nameKey: string) => string): Promise<number>;
  findById(id: number): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  setPasswordHash(id: number, passwordHash: string): Promise<void>;
  /** A logout: records `at` exactly, as the account's last-seen time. */
  setLastSeen(id: number, at: number): Promise<void>;
  /**
   * A checkpoint while these accounts are online: moves their last-seen time forward to
   * `at`, never backwards (a logout recorded meanwhile stays). Lazy and batched: nothing
   * waits on it, and it may reach the disk a moment later, with other writes.
   */
  touchLastSeen(ids: readonly number[], at: number): Promise<void>;
  /** Removes the account and everything that belongs to it. */
  delete(id: number): Promise<void>;
}

export * from './file-records.js';

export interface Ban {
  readonly id: number;
  /** The banned nickname's key (an account's or a guest's). */
  readonly nameKey: string;
  /** The nickname as the admin saw it. */
  readonly name: string;
  /** The address the user last came from, when known; also kept out. */
  readonly address: string | null;
  readonly reason: string | null;
  readonly createdAt: number;
  /** null: for good. */
  readonly expiresAt: number | null;
  readonly createdBy: string;
}

export type NewBan = Omit<Ban, 'id'>;

export interface Suspension {
  readonly nameKey: string;
  readonly name: string;
  readonly createdAt: number;
  readonly createdBy: string;
  /** When it lifts by itself (ms since the epoch); null until an admin forgives it. */
  readonly expiresAt: number | null;
}

/**
 * The server-wide moderation switches an admin turns on and off: the lock (no new logins)
 * and monitoring (admins get copies of private messages). Both are off until first set.
 */
export interface ModerationSwitches {
  readonly locked: boolean;
  readonly monitoring: boolean;
}

export type ModerationSwitch = keyof ModerationSwitches;

/**
 * Bans, suspensions, the addresses names were last used from (for address bans) and the
 * lock and monitoring switches.
 */
export interface ModerationStore {
  addBan(ban: NewBan): Promise<Ban>;
  /** Lifts every ban on the name; resolves with how many were lifted. */
  removeBans(nameKey: string): Promise<number>;
  /** Bans not yet expired at `now` (expired ones are deleted). */
  activeBans(now: number): Promise<Ban[]>;
  addSuspension(suspension: Suspension): Promise<void>;
  removeSuspension(nameKey: string): Promise<boolean>;
  suspensions(): Promise<Suspension[]>;
  recordAddress(nameKey: string, address: string, at: number): Promise<void>;
  lastAddress(nameKey: string): Promise<string | undefined>;
  /** The switches as last set (off when never set). */
  switches(): Promise<ModerationSwitches>;
  /** Durably sets one switch (who and when go to the audit log); rejects when not stored. */
  setSwitch(name: ModerationSwitch, on: boolean): Promise<void>;
}

/** Parameter values changed live with `/config`, kept across restarts. */
export interface SettingsStore {
  /** Raw values as given (validated again when loaded). */
  liveValues(): Promise<Array<{ key: string; value: string }>>;
  setLive(key: string, value: string): Promise<void>;
  removeLive(key: string): Promise<void>;
}

export interface AuditEntry {
  readonly ts: number;
  /** Who acted: an admin's nickname, or `(console)`. */
  readonly actor: string;
  readonly action: string;
  /** Whom or what it was done to, if anyone. */
  readonly target: string | null;
  readonly details: string | null;
}

/** The audit log of admin actions: who did what to whom, when. */
export interface AuditStore {
  record(entry: AuditEntry): Promise<void>;
  /** The last `limit` entries, oldest first. */
  recent(limit: number): Promise<Array<AuditEntry & { readonly id: number }>>;
}

/** What a moderation case records: an admin's action on a user, or a note about them. */
export type CaseAction = 'warn' | 'note' | 'kick' | 'suspend' | 'forgive' | 'ban' | 'unban';

/** One entry of a user's moderation case (the case is every entry about that name). */
export interface CaseEntry {
  readonly id: number;
  readonly nameKey: string;
  /** The user's name as it was shown when the entry was made. */
  readonly name: string;
  readonly action: CaseAction;
  /** The admin's nickname, `(console)`, or `(escalation)` for a step the ladder took. */
  readonly actor: string;
  readonly reason: string | null;
  readonly ts: number;
  /** For a timed suspension or ban: when it ends; otherwise null. */
  readonly expiresAt: number | null;
}

export type NewCaseEntry = Omit<CaseEntry, 'id'>;

/**
 * Blocks of ids for what a node numbers itself (events, sessions, connections, transfers):
 * each block is a number no node sharing the backend ever gets again, so a node that holds
 * one can number things without asking anyone (`NodeIds`, src/core/ids/node-ids.ts).
 */
export interface IdBlockStore {
  /**
   * A new block: 1, 2, 3, … for the life of the backend (never handed out twice, by any
   * node, after a restart; a later claim gets a greater one). `node` and `at` are recorded
   * with it, to tell which node numbered what.
   */
  claim(node: string, at: number): Promise<number>;
}

/**
 * The moderation case log: what moderators did about each user, kept for good (a case is
 * history, not state: lifting a ban adds an entry, it removes none).
 */
export interface CaseStore {
  /** Durably adds an entry; rejects when it could not be stored. */
  add(entry: NewCaseEntry): Promise<CaseEntry>;
  /** The name's last `limit` entries, oldest first. */
  forName(nameKey: string, limit: number): Promise<CaseEntry[]>;
  /** How many `action` entries the name has had at or after `since` (the escalation ladder). */
  countSince(nameKey: string, action: CaseAction, since: number): Promise<number>;
  /** The name's most recent `action` entry, if any. */
  latest(nameKey: string, action: CaseAction): Promise<CaseEntry | undefined>;
}

/** The lockout state of one nickname from one address. */
export interface PairLockout {
  readonly nameKey: string;
  readonly address: string;
  /** Consecutive failures since the last success or lockout. */
  readonly failures: number;
  /** Until when (ms since the epoch) the pair is locked out; 0 or past when it is not. */
  readonly lockedUntil: number;
}

export interface AddressLockout {
  readonly address: string;
  /** Failures from this address, over all nicknames, since `windowStart`. */
  readonly failures: number;
  readonly windowStart: number;
  readonly lockedUntil: number;
}

/** Failed logins for one name over every address, since `windowStart`. */
export interface NameFailures {
  readonly nameKey: string;
  readonly failures: number;
  readonly windowStart: number;
  readonly lastAt: number;
}

export interface UnreportedFailure {
  readonly address: string;
  readonly count: number;
  readonly lastAt: number;
}

/**
 * Failed-login bookkeeping for lockouts (seed 003), kept across restarts. The counting
 * rules are passed in, so each update is one atomic step in the store.
 */
export interface LoginGuardStore {
  pair(nameKey: string, address: string): Promise<PairLockout | undefined>;
  address(address: string): Promise<AddressLockout | undefined>;
  /**
   * Counts a failure for the pair; at `attempts` failures the pair is locked until
   * `now + lockMs` and its count starts again.
   */
  recordPairFailure(
    nameKey: string,
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number },
  ): Promise<PairLockout>;
  /**
   * Counts a failure for the address in a window of `windowMs`; from `attempts` failures
   * in the window on, each failure locks the address until `now + lockMs`.
   */
  recordAddressFailure(
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number; windowMs: number },
  ): Promise<AddressLockout>;
  /** A successful login resets the pair's count. */
  clearPair(nameKey: string, address: string): Promise<void>;
  nameFailures(nameKey: string): Promise<NameFailures | undefined>;
  /**
   * One atomic step: unless `waitUntil(current)` is after `now`, counts an attempt (a
   * failure until refunded) for the name over every address, in a window of `windowMs`
   * that starts at the first attempt after the previous window ended; `current` is
   * undefined when there is no window in force. Counting before the password is checked
   * is what keeps parallel guesses from all slipping through at once.
   */
  takeNameAttempt(
    nameKey: string,
    now: number,
    windowMs: number,
    waitUntil: (current: NameFailures | undefined) => number,
  ): Promise<{ taken: true; failures: NameFailures } | { taken: false; until: number }>;
  /** The attempt succeeded: it was not a failure after all. */
  refundNameAttempt(nameKey: string): Promise<void>;
  /** When the name last logged in with its password from `address`, if ever. */
  knownAddress(nameKey: string, address: string): Promise<number | undefined>;
  recordKnownAddress(nameKey: string, address: string, at: number): Promise<void>;
  addUnreported(accountId: number, address: string, at: number): Promise<void>;
  /** Returns the account's unreported failures and forgets them. */
  takeUnreported(accountId: number): Promise<UnreportedFailure[]>;
  /** Pairs and addresses locked out at `now`. */
  lockedAt(now: number): Promise<{ pairs: PairLockout[]; addresses: AddressLockout[] }>;
  /**
   * Forgets state that no longer matters: lockouts unlocked and quiet since `before`, name
   * windows over since `before`, known addresses unused since `knownBefore`.
   */
  prune(now: number, before: number, knownBefore?: number): Promise<void>;
}

/** A uniqueness rule refused a write (for example a name already taken). */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** The backend could not store the data (disk full, read-only, I/O error). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
