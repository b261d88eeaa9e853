import type { Session } from '../session.js';

/**
 * Who owns a room. An account's room is persistent and survives restarts; a guest's room
 * lives in memory and vanishes when its last member leaves.
 */
export type RoomOwner =
  | { readonly kind: 'account'; readonly accountId: number | null; readonly name: string }
  | { readonly kind: 'guest'; readonly sessionId: string; readonly name: string };

/**
 * A chat room. It holds its online members itself, so a message fans out to exactly its
 * members without looking at anyone else; `accountMembers` are the accounts that belong to
 * it, online or not (persisted for persistent rooms).
 */
export class Room {
  readonly key: string;
  readonly name: string;
  owner: RoomOwner;
  /** Store id of a persistent room; null for a guest's room. */
  readonly storeId: number | null;
  /** Messages of this room with ids at or below this belong to an earlier room of that name. */
  readonly historyFloor: number;
  readonly createdAt: number;
  topic: string | null;
  readonly members = new Map<string, Session>();
  /** Account id → account name, for every account that belongs to the room. */
  readonly accountMembers = new Map<number, string>();

  constructor(init: {
    key: string;
    name: string;
    owner: RoomOwner;
    storeId: number | null;
    historyFloor: number;
    createdAt: number;
    topic: string | null;
  }) {
    this.key = init.key;
    this.name = init.name;
    this.owner = init.owner;
    this.storeId = init.storeId;
    this.historyFloor = init.historyFloor;
    this.createdAt = init.createdAt;
    this.topic = init.topic;
  }

  get isPersistent(): boolean {
    return this.storeId !== null;
  }

  /** Its owner's account is gone: only admins may close it now. */
  disown(): void {
    this.owner = { kind: 'account', accountId: null, name: this.owner.name };
  }

  isOwnedBy(session: Session): boolean {
    return this.owner.kind === 'account'
      ? session.account !== null && session.account.id === this.owner.accountId
      : session.id === this.owner.sessionId;
  }
}
