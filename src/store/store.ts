/**
 * The persistence contract. The chat core talks only to these interfaces; each backend
 * (SQLite now, PostgreSQL later) implements them in its own folder. Every method is
 * asynchronous so a networked backend fits without changing callers.
 *
 * Feature areas get their own sub-store, so a feature adds a file rather than growing one
 * god interface.
 */
export interface Store {
  readonly messages: MessageStore;
  readonly accounts: AccountStore;
  /** Flushes pending writes and releases the backend. */
  close(): Promise<void>;
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
}

export interface StoredMessage extends NewMessage {
  readonly id: number;
}

export interface MessageStore {
  /**
   * Durably stores a message. The promise resolves only once the message is committed
   * (writes are grouped per tick, so many appends share one commit), and rejects when it
   * could not be stored: nothing may be acknowledged or delivered before it resolves.
   */
  append(message: NewMessage): Promise<StoredMessage>;
  /** The last `limit` messages of a room, oldest first. */
  recentInRoom(room: string, limit: number, beforeId?: number): Promise<StoredMessage[]>;
  count(): Promise<number>;
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
  readonly passwordHash: string;
  readonly role: Role;
  readonly createdAt: number;
}

export interface AccountStore {
  /** Rejects with `StoreConflictError` when the name is taken. */
  create(account: NewAccount): Promise<Account>;
  findByKey(nameKey: string): Promise<Account | undefined>;
  findById(id: number): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  setPasswordHash(id: number, passwordHash: string): Promise<void>;
  setLastSeen(id: number, at: number): Promise<void>;
  /** Removes the account and everything that belongs to it. */
  delete(id: number): Promise<void>;
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
