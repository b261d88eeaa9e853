import type Database from 'better-sqlite3';
import type { NewRoom, RoomStore, StoredRoom } from '../store.js';
import { type MemberRow, type RoomRow, toRooms } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

/** Rooms made by accounts, and which accounts belong to them. */
export class SqliteRoomStore implements RoomStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  async list(): Promise<StoredRoom[]> {
    const rooms = prepared(this.db, 'SELECT * FROM rooms ORDER BY id').all() as RoomRow[];
    const members = prepared(
      this.db,
      `SELECT room_members.room_id, room_members.account_id, accounts.name
           FROM room_members JOIN accounts ON accounts.id = room_members.account_id
          ORDER BY room_members.joined_at`,
    ).all() as MemberRow[];
    return toRooms(rooms, members);
  }

  create(room: NewRoom): Promise<StoredRoom> {
    return this.writer.write('rooms.create', [room], (id) => ({ ...room, id, members: [] }));
  }

  delete(id: number): Promise<void> {
    return this.writer.write('rooms.delete', [id]);
  }

  setTopic(id: number, topic: string | null): Promise<void> {
    return this.writer.write('rooms.setTopic', [id, topic]);
  }

  addMember(roomId: number, accountId: number, at: number): Promise<void> {
    return this.writer.write('rooms.addMember', [roomId, accountId, at]);
  }

  removeMember(roomId: number, accountId: number): Promise<void> {
    return this.writer.write('rooms.removeMember', [roomId, accountId]);
  }
}
