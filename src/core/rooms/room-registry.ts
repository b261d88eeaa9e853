import type { RoomInfo } from '../../bus/bus.js';
import { StoreConflictError, type Store } from '../../store/store.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';
import { Room, type RoomOwner } from './room.js';

/** An account joined a persistent room (`member`) or left it. */
export interface AccountMembership {
  readonly room: string;
  readonly accountId: number;
  readonly name: string;
  readonly member: boolean;
}

/**
 * Every room but the lobby (which is everyone), with membership kept both ways: a room
 * holds its member sessions, a session holds its room keys. Persistent rooms and their
 * account members are loaded once at start, so logins and fan-out never touch the store.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  /** Account id → keys of the persistent rooms it belongs to. */
  private readonly roomKeysOfAccount = new Map<number, Set<string>>();

  /**
   * `changed` hears every change to a persistent room's account members made here (the
   * core tells the other nodes); `memberChanged` applies theirs.
   */
  constructor(
    private readonly store: Store,
    private readonly changed: (change: AccountMembership) => void = () => undefined,
  ) {}

  async load(): Promise<void> {
    for (const stored of await this.store.rooms.list()) {
      const room = new Room({
        key: stored.nameKey,
        name: stored.name,
        owner: { kind: 'account', accountId: stored.ownerAccountId, name: stored.ownerName },
        storeId: stored.id,
        historyFloor: stored.historyFloor,
        createdAt: stored.createdAt,
        topic: stored.topic,
      });
      this.rooms.set(room.key, room);
      for (const member of stored.members)
        this.indexAccountMember(room, member.accountId, member.name);
    }
  }

  get(key: string): Room | undefined {
    return this.rooms.get(key);
  }

  all(): IterableIterator<Room> {
    return this.rooms.values();
  }

  /** The persistent rooms an account belongs to, online or not. */
  roomsOfAccount(accountId: number): Room[] {
    const rooms: Room[] = [];
    for (const key of this.roomKeysOfAccount.get(accountId) ?? []) {
      const room = this.rooms.get(key);
      if (room) rooms.push(room);
    }
    return rooms;
  }

  /** Makes a room owned by `session`: persistent for an account, in memory for a guest. */
  async create(session: Session, name: string, key: string, now: number): Promise<Room> {
    if (this.rooms.has(key)) throw roomExists(name);
    const historyFloor = await this.store.messages.lastId();
    let owner: RoomOwner;
    let storeId: number | null = null;
    if (session.account) {
      owner = { kind: 'account', accountId: session.account.id, name: session.nick };
      const stored = await this.store.rooms
        .create({
          name,
          nameKey: key,
          ownerAccountId: session.account.id,
          ownerName: session.nick,
          topic: null,
          createdAt: now,
          historyFloor,
        })
        .catch((error: unknown) => {
          throw error instanceof StoreConflictError ? roomExists(name) : error;
        });
      storeId = stored.id;
      if (this.rooms.has(key)) {
        // A guest took the name while the row was being written.
        await this.store.rooms.delete(stored.id);
        throw roomExists(name);
      }
    } else {
      if (this.rooms.has(key)) throw roomExists(name);
      owner = { kind: 'guest', session };
    }
    const room = new Room({ key, name, owner, storeId, historyFloor, createdAt: now, topic: null });
    this.rooms.set(key, room);
    return room;
  }

  /** Another node created a room: this node knows it too (its members here join here). */
  adopt(info: RoomInfo): void {
    if (this.rooms.has(info.key)) return;
    this.rooms.set(
      info.key,
      new Room({
        key: info.key,
        name: info.name,
        owner: { kind: 'account', accountId: info.ownerAccountId, name: info.ownerName ?? '' },
        storeId: info.storeId,
        historyFloor: info.historyFloor,
        createdAt: info.createdAt,
        topic: info.topic,
      }),
    );
  }

  /**
   * Another node closed a room (and stored that): the members this node holds leave it.
   * Returns them.
   */
  dropCopy(key: string): Session[] {
    const room = this.rooms.get(key);
    if (!room) return [];
    const members = [...room.members.values()];
    this.rooms.delete(key);
    for (const session of room.members.values()) session.left(key);
    room.members.clear();
    for (const accountId of room.accountMembers.keys())
      this.roomKeysOfAccount.get(accountId)?.delete(key);
    return members;
  }

  /** Adds an online member; for a persistent room, also makes its account a member. */
  async join(room: Room, session: Session, now: number): Promise<void> {
    if (room.isPersistent && session.account && !room.accountMembers.has(session.account.id)) {
      await this.store.rooms.addMember(room.storeId!, session.account.id, now);
      this.indexAccountMember(room, session.account.id, session.nick);
      this.changed({
        room: room.key,
        accountId: session.account.id,
        name: session.nick,
        member: true,
      });
    }
    room.members.set(session.id, session);
    session.entered(room.key);
  }

  /** Removes a member for good (`/leave`), and a guest's room once it is empty. */
  async leave(room: Room, session: Session): Promise<void> {
    this.detach(room, session);
    if (room.isPersistent && session.account && room.accountMembers.has(session.account.id)) {
      room.accountMembers.delete(session.account.id);
      this.roomKeysOfAccount.get(session.account.id)?.delete(room.key);
      await this.store.rooms.removeMember(room.storeId!, session.account.id);
      this.changed({
        room: room.key,
        accountId: session.account.id,
        name: session.nick,
        member: false,
      });
    }
  }

  /** Deletes a room; returns the sessions that were in it (they are in it no more). */
  async close(room: Room): Promise<Session[]> {
    const members = [...room.members.values()];
    this.rooms.delete(room.key);
    for (const session of members) session.left(room.key);
    room.members.clear();
    for (const accountId of room.accountMembers.keys())
      this.roomKeysOfAccount.get(accountId)?.delete(room.key);
    room.accountMembers.clear();
    if (room.storeId !== null) await this.store.rooms.delete(room.storeId);
    return members;
  }

  /** A session began: an account is back in its persistent rooms. Returns those rooms. */
  sessionStarted(session: Session): Room[] {
    const account = session.account;
    if (!account) return [];
    const restored: Room[] = [];
    for (const key of this.roomKeysOfAccount.get(account.id) ?? []) {
      const room = this.rooms.get(key);
      if (!room) continue;
      room.members.set(session.id, session);
      session.entered(key);
      restored.push(room);
    }
    return restored;
  }

  /** A session ended: it leaves its rooms' online members (an account stays a member). */
  sessionEnded(session: Session): void {
    for (const key of [...session.joinedRooms]) {
      const room = this.rooms.get(key);
      if (room) this.detach(room, session);
    }
  }

  /**
   * An account was deleted (the store removed its memberships): drop them from memory.
   * Its rooms stay, ownerless, until an admin closes them. Every node does this for itself
   * (the `account-deleted` control), so nothing is told from here.
   */
  forgetAccount(accountId: number): void {
    for (const room of this.roomsOfAccount(accountId)) room.accountMembers.delete(accountId);
    this.roomKeysOfAccount.delete(accountId);
    for (const room of this.rooms.values())
      if (room.owner.kind === 'account' && room.owner.accountId === accountId) room.disown();
  }

  /** Another node changed a persistent room's account members (and stored that). */
  memberChanged(change: AccountMembership): void {
    const room = this.rooms.get(change.room);
    if (!room?.isPersistent) return;
    if (change.member) {
      this.indexAccountMember(room, change.accountId, change.name);
      return;
    }
    room.accountMembers.delete(change.accountId);
    this.roomKeysOfAccount.get(change.accountId)?.delete(room.key);
  }

  private detach(room: Room, session: Session): void {
    room.members.delete(session.id);
    session.left(room.key);
    // A guest's room lives only while someone is in it.
    if (!room.isPersistent && room.members.size === 0) this.rooms.delete(room.key);
  }

  private indexAccountMember(room: Room, accountId: number, name: string): void {
    room.accountMembers.set(accountId, name);
    let keys = this.roomKeysOfAccount.get(accountId);
    if (!keys) this.roomKeysOfAccount.set(accountId, (keys = new Set()));
    keys.add(room.key);
  }
}

function roomExists(name: string): ChatError {
  return new ChatError('room_exists', `A room called "${name}" exists already`);
}
