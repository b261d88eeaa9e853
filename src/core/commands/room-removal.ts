import { z } from 'zod';
import { LOBBY } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { nameKey } from '../names.js';
import { findOwnRoomOrThrow, requireOwnerOrAdmin } from '../rooms/room-lookup.js';
import { notInRoom, removeFromRoom } from '../rooms/room-removal.js';
import { defineCommand } from './command.js';

/**
 * A room's owner (or an admin) takes someone out of the room: IRC's KICK. The user stays
 * online and may join again; an account also stops belonging to a persistent room. A user
 * of another node is removed there (the directory names the node, which checks and acts).
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
    const key = nameKey(args.nick);
    if (key === session.nickKey)
      throw new ChatError('invalid_target', 'Use /leave to leave a room yourself');
    const reason = args.reason?.trim() || undefined;
    const by = { nick: session.nick, admin: session.isAdmin };
    const target = core.findSession(key);
    if (target) {
      await removeFromRoom(core, room, target, by, reason);
      return { room: room.name, nick: target.nick };
    }
    const remote = await core.findRemote(key);
    if (!remote) throw notInRoom(args.nick, room.name);
    await core.nodes.removeFromRoom(remote, room, by, reason);
    return { room: room.name, nick: remote.nick };
  },
});
