import type Database from 'better-sqlite3';
import type { NewRoom, RoomStore, StoredRoom } from '../store.js';
import { type MemberRow, type RoomRow, toRooms } from '../rows.js';
import { prepared, runStatement } from './database.js';

/** Rooms made by accounts, and which accounts belong to them. */
export class SqliteRoomStore implements RoomStore {
  constructor(private readonly db: Database.Database) {}

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

  async create(room: NewRoom): Promise<StoredRoom> {
    const { lastInsertRowid } = runStatement(
      this.db,
      `INSERT INTO rooms (name, name_key, owner_account, owner_name, topic, created_at, history_floor)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      room.name,
      room.nameKey,
      room.ownerAccountId,
      room.ownerName,
      room.topic,
      room.createdAt,
      room.historyFloor,
    );
    return { ...room, id: Number(lastInsertRowid), members: [] };
  }

  async delete(id: number): Promise<void> {
    runStatement(this.db, 'DELETE FROM rooms WHERE id = ?', id);
  }

  async setTopic(id: number, topic: string | null): Promise<void> {
    runStatement(this.db, 'UPDATE rooms SET topic = ? WHERE id = ?', topic, id);
  }

  async addMember(roomId: number, accountId: number, at: number): Promise<void> {
    runStatement(
      this.db,
      'INSERT OR IGNORE INTO room_members (room_id, account_id, joined_at) VALUES (?, ?, ?)',
      roomId,
      accountId,
      at,
    );
  }

  async removeMember(roomId: number, accountId: number): Promise<void> {
    runStatement(
      this.db,
      'DELETE FROM room_members WHERE room_id = ? AND account_id = ?',
      roomId,
      accountId,
    );
  }
}
