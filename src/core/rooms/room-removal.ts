import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';
import type { Room } from './room.js';

/** Who takes someone out of a room (checked by the caller: the room's owner or an admin). */
export interface Remover {
  readonly nick: string;
  readonly admin: boolean;
}

/**
 * Takes `target`, a session this node holds, out of `room` (`/remove`): the account stops
 * belonging to a persistent room (on every node, through the room registry), the room's
 * members see `room_leave` with `by`, the target gets `room_left`. The one implementation:
 * `/remove` calls it for a session of its own node, and the node that holds the session
 * calls it when asked by another (`remove-from-room`), so the checks below run where the
 * session and its rooms are.
 */
export async function removeFromRoom(
  core: ChatCore,
  room: Room,
  target: Session,
  by: Remover,
  reason: string | undefined,
): Promise<void> {
  if (!target.isIn(room.key)) throw notInRoom(target.nick, room.name);
  if (room.isOwnedBy(target) && !by.admin)
    throw new ChatError('invalid_target', 'Only an admin may remove the owner of a room');
  await core.rooms.leave(room, target);
  core.publish(
    { kind: 'room', room: room.key },
    {
      ev: 'room_leave',
      room: room.name,
      nick: target.nick,
      by: by.nick,
      ...(reason !== undefined && { reason }),
    },
    { exclude: target },
  );
  core.sendTo(target, {
    ev: 'room_left',
    room: room.name,
    reason: 'removed',
    by: by.nick,
    ...(reason !== undefined && { message: reason }),
  });
}

export function notInRoom(nick: string, room: string): ChatError {
  return new ChatError('unknown_user', `${nick} is not in "${room}"`, { unknown: [nick] });
}
