import type { ServerEvent } from '../protocol/events.js';
import { nameKey } from '../protocol/names.js';

export interface JoinedRoom {
  readonly name: string;
  readonly owner: string | null;
  readonly topic: string | null;
}

/**
 * The rooms this client is in, learnt from the server's events (`room_entered` after a
 * join, a create or a login that restores an account's rooms; `room_left`; `room_closed`;
 * `room_topic`), so every surface agrees on them without parsing replies. The lobby is
 * always there.
 */
export class RoomTracker {
  private readonly rooms = new Map<string, JoinedRoom>([
    ['lobby', { name: 'lobby', owner: null, topic: null }],
  ]);

  /** Updates the rooms from one event; returns true when it changed them. */
  observe(event: ServerEvent): boolean {
    switch (event.ev) {
      case 'room_entered':
        this.rooms.set(nameKey(event.room), {
          name: event.room,
          owner: event.owner,
          topic: event.topic,
        });
        return true;
      case 'room_left':
      case 'room_closed':
        return this.rooms.delete(nameKey(event.room));
      case 'room_topic': {
        const key = nameKey(event.room);
        const room = this.rooms.get(key);
        if (!room) return false;
        this.rooms.set(key, { ...room, topic: event.topic });
        return true;
      }
      default:
        return false;
    }
  }

  /** A joined room by any spelling of its name. */
  get(name: string): JoinedRoom | undefined {
    return this.rooms.get(nameKey(name));
  }

  has(name: string): boolean {
    return this.rooms.has(nameKey(name));
  }

  list(): JoinedRoom[] {
    return [...this.rooms.values()];
  }
}
