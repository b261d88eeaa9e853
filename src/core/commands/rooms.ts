import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import { LOBBY } from '../rooms/lobby.js';
import type { StoredMessage } from '../../store/store.js';
import { roomInfo } from '../nodes/node-link.js';
import { ChatError } from '../errors.js';
import { nameKey } from '../names.js';
import {
  checkRoomName,
  findOwnRoomOrThrow,
  findRoom,
  requireMember,
  requireOwnerOrAdmin,
} from '../rooms/room-lookup.js';
import { roomEntered, type Room } from '../rooms/room.js';
import type { Session } from '../session.js';
import type { ChatCore } from '../chat-core.js';
import { defineCommand } from './command.js';

/** The reply to `/create` and `/join`. */
function roomSummary(room: Room) {
  return { room: room.name, owner: room.ownerName, topic: room.topic, members: room.members.size };
}

/**
 * The room's recent messages for a new member, oldest first. Messages of an earlier room
 * of that name are left out: those at or below the floor (the newest id when the room was
 * made) and, since an append to the old room may commit after the floor was read, those
 * sent before the room was made.
 */
async function loadHistory(core: ChatCore, session: Session, room: Room) {
  const limit = core.params['history.replay'];
  if (limit === 0) return [];
  const messages = await core.store.messages.recentInRoom(
    room.key,
    limit,
    undefined,
    room.historyFloor,
  );
  return messages.filter(
    (message) => message.ts >= room.createdAt && !session.blocks.has(nameKey(message.sender)),
  );
}

export const createCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'create',
    aliases: [],
    bare: [],
    args: [{ name: 'room', kind: 'name' }],
    summary: 'create a room and join it; you own it',
    group: 'rooms',
  },
  args: z.object({ room: z.string() }),
  async handle({ core, session, after }, args) {
    const { name, key } = checkRoomName(args.room);
    if (key === LOBBY) throw new ChatError('room_exists', 'The lobby exists already');
    const now = core.clock.now();
    const room = await core.rooms.create(session, name, key, now);
    core.nodes.broadcast({ type: 'room-created', room: roomInfo(room) });
    await core.rooms.join(room, session, now);
    // Known on every node before the reply: a join sent at once through another node finds
    // it (a node that does not answer within the request timeout is not waited for longer).
    await core.nodes.barrier();
    after(() => core.sendTo(session, roomEntered(room, false)));
    return roomSummary(room);
  },
});

export const joinCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'join',
    aliases: [],
    bare: [],
    args: [{ name: 'room', kind: 'name' }],
    summary: 'join a room: recent messages are shown, marked as history',
    group: 'rooms',
  },
  args: z.object({ room: z.string() }),
  async handle({ core, session, after }, args) {
    const found = findRoom(core, args.room);
    if (found.lobby) throw new ChatError('already_in_room', 'Everyone is in the lobby');
    const room = found.room;
    if (session.isIn(room.key))
      throw new ChatError('already_in_room', `You are in "${room.name}" already`);
    // Subscribe first, then read: from the join on, the room's live messages are held,
    // so one committed while history is read comes once, as history, and none is missed.
    const release = session.holdEvents();
    let history: StoredMessage[];
    try {
      await core.rooms.join(room, session, core.clock.now());
      history = await loadHistory(core, session, room);
    } catch (error) {
      release([], []);
      throw error;
    }
    after(() => {
      release(
        [
          core.events.make(roomEntered(room, false)),
          ...history.map((message) =>
            core.events.make(
              {
                ev: 'message',
                mid: message.id,
                room: room.name,
                from: message.sender,
                text: message.text,
                replay: 'history',
              },
              message.ts,
            ),
          ),
        ],
        history.map((message) => message.id),
      );
      core.publish(
        { kind: 'room', room: room.key },
        { ev: 'room_join', room: room.name, nick: session.nick },
        { exclude: session },
      );
    });
    return roomSummary(room);
  },
});

export const leaveCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'leave',
    aliases: [],
    bare: [],
    args: [{ name: 'room', kind: 'name', optional: true }],
    summary: 'leave a room (the current one by default); others see it',
    group: 'rooms',
  },
  args: z.object({
    room: z.string().default(LOBBY),
    /** A goodbye the others see (IRC's PART message). */
    reason: ruledText('reason', z.string().max(500)).optional(),
  }),
  async handle({ core, session }, args) {
    const room = findOwnRoomOrThrow(core, args.room, 'left');
    requireMember(session, room);
    await core.rooms.leave(room, session);
    const reason = args.reason?.trim() || undefined;
    core.publish(
      { kind: 'room', room: room.key },
      { ev: 'room_leave', room: room.name, nick: session.nick, ...(reason && { reason }) },
      { exclude: session },
    );
    core.sendTo(session, {
      ev: 'room_left',
      room: room.name,
      reason: 'left',
      ...(reason && { message: reason }),
    });
    return { room: room.name };
  },
});

export const closeCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'close',
    aliases: [],
    bare: [],
    args: [{ name: 'room', kind: 'name', optional: true }],
    summary: 'close a room you own (admins: any room); its members return to the lobby',
    group: 'rooms',
  },
  args: z.object({ room: z.string().default(LOBBY) }),
  async handle({ core, session }, args) {
    const room = findOwnRoomOrThrow(core, args.room, 'closed');
    requireOwnerOrAdmin(session, room, 'close');
    const members = await core.rooms.close(room);
    core.nodes.broadcast({
      type: 'room-closed',
      room: room.key,
      name: room.name,
      by: session.nick,
    });
    if (members.length > 0)
      core.publish(
        { kind: 'sessions', ids: members.map((member) => member.id) },
        { ev: 'room_closed', room: room.name, by: session.nick },
      );
    // Gone from every node before the reply, as a creation is there before its reply: a
    // join sent at once through another node must not find the room still there.
    await core.nodes.barrier();
    return { room: room.name };
  },
});
