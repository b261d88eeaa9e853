import { z } from 'zod';
import { LOBBY } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { nameKey } from '../names.js';
import { findOwnRoomOrThrow, requireOwnerOrAdmin } from '../rooms/room-lookup.js';
import { defineCommand } from './command.js';

/**
 * A room's owner (or an admin) takes someone out of the room: IRC's KICK. The user stays
 * online and may join again; an account also stops belonging to a persistent room.
 */
export const removeCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'remove',
    aliases: [],
    bare: [],
    args: [
      { name: 'nick', kind: 'name' },
      { name: 'reason', kind: 'text', optional: true },
    ],
    summary: 'take someone out of the current room (its owner or an admin); they may come back',
    group: 'rooms',
  },
  args: z.object({
    room: z.string().default(LOBBY),
    nick: z.string(),
    reason: z.string().max(1000).optional(),
  }),
  async handle({ core, session }, args) {
    const room = findOwnRoomOrThrow(core, args.room, 'left by force');
    requireOwnerOrAdmin(session, room, 'remove people from');
    const target = core.findSession(nameKey(args.nick));
    if (!target || !target.isIn(room.key))
      throw new ChatError('unknown_user', `${args.nick} is not in "${room.name}"`, {
        unknown: [args.nick],
      });
    if (target === session)
      throw new ChatError('invalid_target', 'Use /leave to leave a room yourself');
    if (room.isOwnedBy(target) && !session.isAdmin)
      throw new ChatError('invalid_target', 'Only an admin may remove the owner of a room');
    const reason = args.reason?.trim() || undefined;
    await core.rooms.leave(room, target);
    core.publish(
      { kind: 'room', room: room.key },
      {
        ev: 'room_leave',
        room: room.name,
        nick: target.nick,
        by: session.nick,
        ...(reason !== undefined && { reason }),
      },
      { exclude: target },
    );
    core.sendTo(target, {
      ev: 'room_left',
      room: room.name,
      reason: 'removed',
      by: session.nick,
      ...(reason !== undefined && { message: reason }),
    });
    return { room: room.name, nick: target.nick };
  },
});
