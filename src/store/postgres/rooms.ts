import type { NewRoom, RoomStore, StoredRoom } from '../store.js';
import { type MemberRow, type RoomRow, toRooms } from '../rows.js';
import { guarded, type Sql } from './database.js';

/** Rooms made by accounts, and which accounts belong to them. */
export class PostgresRoomStore implements RoomStore {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<StoredRoom[]> {
    const [rooms, members] = await guarded(() =>
      Promise.all([
        this.sql<RoomRow[]>`SELECT * FROM rooms ORDER BY id`,
        this.sql<MemberRow[]>`
          SELECT room_members.room_id, room_members.account_id, accounts.name
            FROM room_members JOIN accounts ON accounts.id = room_members.account_id
           ORDER BY room_members.joined_at, room_members.account_id`,
      ]),
    );
    return toRooms(rooms, members);
  }

  async create(room: NewRoom): Promise<StoredRoom> {
    const [row] = await guarded(
      () => this.sql<{ id: number }[]>`
        INSERT INTO rooms (name, name_key, owner_account, owner_name, topic, created_at, history_floor)
        VALUES (${room.name}, ${room.nameKey}, ${room.ownerAccountId}, ${room.ownerName},
                ${room.topic}, ${room.createdAt}, ${room.historyFloor})
        RETURNING id`,
    );
    return { ...room, id: row!.id, members: [] };
  }

  async delete(id: number): Promise<void> {
    await guarded(() => this.sql`DELETE FROM rooms WHERE id = ${id}`);
  }

  async setTopic(id: number, topic: string | null): Promise<void> {
    await guarded(() => this.sql`UPDATE rooms SET topic = ${topic} WHERE id = ${id}`);
  }

  async addMember(roomId: number, accountId: number, at: number): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO room_members (room_id, account_id, joined_at)
        VALUES (${roomId}, ${accountId}, ${at}) ON CONFLICT DO NOTHING`,
    );
  }

  async removeMember(roomId: number, accountId: number): Promise<void> {
    await guarded(
      () =>
        this.sql`DELETE FROM room_members WHERE room_id = ${roomId} AND account_id = ${accountId}`,
    );
  }
}
