import type { Session } from '../session.js';
import type { EventPayload } from '../events.js';

/**
 * Who owns a room. An account's room is persistent and survives restarts; a guest's room
 * lives in memory and vanishes when its last member leaves.
 */
export type RoomOwner =
  | { readonly kind: 'account'; readonly accountId: number | null; readonly name: string }
  /** The session itself, so the owner shows under a guest's current nickname. */
  | { readonly kind: 'guest'; readonly session: Session };

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

  get ownerName(): string {
    return this.owner.kind === 'guest' ? this.owner.session.nick : this.owner.name;
  }

  get isPersistent(): boolean {
    return this.storeId !== null;
  }

  /** Its owner's account is gone: only admins may close it now. */
  disown(): void {
    this.owner = { kind: 'account', accountId: null, name: this.ownerName };
  }

  isOwnedBy(session: Session): boolean {
    return this.owner.kind === 'account'
      ? session.account !== null && session.account.id === this.owner.accountId
      : session === this.owner.session;
  }
}

/**
 * Tells a session it is in `room`: after `/create` or `/join`, or, `restored`, when a
 * login, a resume or a move to another node gives it back the rooms it was in.
 */
export function roomEntered(room: Room, restored: boolean): EventPayload {
  return {
    ev: 'room_entered',
    room: room.name,
    owner: room.ownerName,
    topic: room.topic,
    restored,
  };
}
