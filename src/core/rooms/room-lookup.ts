import { LOBBY, type ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';
import type { Room } from './room.js';

/**
 * Checks a room name as typed: the nickname rules apply to rooms too. A leading `#` is
 * how rooms are shown (and how IRC spells them), so `#dev` names the room `dev`.
 */
export function checkRoomName(raw: string): { name: string; key: string } {
  const checked = checkName(raw.startsWith('#') ? raw.slice(1) : raw, 'room name');
  if (!checked.ok) throw new ChatError('invalid_room', checked.reason);
  return { name: checked.name, key: checked.key };
}

/** The lobby, or an existing room; `unknown_room` otherwise. */
export function findRoom(
  core: ChatCore,
  raw: string,
): { lobby: true } | { lobby: false; room: Room } {
  const { key } = checkRoomName(raw);
  if (key === LOBBY) return { lobby: true };
  const room = core.rooms.get(key);
  if (!room) throw new ChatError('unknown_room', `There is no room called "${raw}"`);
  return { lobby: false, room };
}

/** An existing room other than the lobby (which cannot be left, closed or given a topic). */
export function findOwnRoomOrThrow(core: ChatCore, raw: string, action: string): Room {
  const found = findRoom(core, raw);
  if (found.lobby) throw new ChatError('lobby_fixed', `The lobby cannot be ${action}`);
  return found.room;
}

export function requireMember(session: Session, room: Room): void {
  if (!session.isIn(room.key))
    throw new ChatError('unknown_room', `You are not in the room "${room.name}"`);
}

export function requireOwnerOrAdmin(session: Session, room: Room, action: string): void {
  if (!room.isOwnedBy(session) && !session.isAdmin)
    throw new ChatError(
      'not_room_owner',
      `Only ${room.ownerName} (the owner) or an admin may ${action} "${room.name}"`,
    );
}
