import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import type { SessionSummary } from '../../bus/bus.js';
import { LOBBY } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { nameKey, withinCharacters } from '../names.js';
import {
  findOwnRoomOrThrow,
  findRoom,
  requireMember,
  requireOwnerOrAdmin,
} from '../rooms/room-lookup.js';
import type { Room } from '../rooms/room.js';
import { defineCommand } from './command.js';

/** Most messages one `/history` reply may hold. */
export const HISTORY_MAX = 500;
/** `/history` without a count when `history.replay` is 0. */
const HISTORY_FALLBACK = 50;
/** The topic that clears a topic, as typed. */
const NO_TOPIC = '-';

export const roomsCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'rooms',
    aliases: [],
    bare: [],
    args: [],
    summary: 'rooms with member counts and owners',
    group: 'rooms',
  },
  args: z.object({}),
  handle({ core, session }) {
    const rooms = [...core.rooms.all()]
      .map((room) => ({
        name: room.name,
        owner: room.ownerName,
        members: room.members.size,
        accounts: room.accountMembers.size,
        topic: room.topic,
        persistent: room.isPersistent,
        joined: session.isIn(room.key),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const lobby = {
      name: LOBBY,
      owner: null,
      members: core.onlineCount,
      accounts: 0,
      topic: null,
      persistent: true,
      joined: true,
    };
    return { rooms: [lobby, ...rooms] };
  },
});

export const membersCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'members',
    aliases: [],
    bare: [],
    args: [{ name: 'room', kind: 'name', optional: true }],
    summary: 'who is in a room (the current one by default)',
    group: 'rooms',
  },
  args: z.object({ room: z.string().default(LOBBY) }),
  async handle({ core }, args) {
    const found = findRoom(core, args.room);
    if (found.lobby) {
      const members = (await core.nodes.who())
        .map((member) => ({ nick: member.nick, online: true, owner: false }))
        .sort((a, b) => a.nick.localeCompare(b.nick));
      return { room: LOBBY, owner: null, members };
    }
    const room = found.room;
    // Members online on every node.
    const online = await core.nodes.members(room.key);
    const members = online.map((member) => ({
      nick: member.nick,
      online: true,
      owner: isOwner(room, member),
    }));
    const onlineAccounts = new Set(
      online.map((member) => member.account?.id).filter((id) => id !== undefined),
    );
    for (const [accountId, name] of room.accountMembers)
      if (!onlineAccounts.has(accountId))
        members.push({
          nick: name,
          online: false,
          owner: room.owner.kind === 'account' && room.owner.accountId === accountId,
        });
    members.sort((a, b) => a.nick.localeCompare(b.nick));
    return { room: room.name, owner: room.ownerName, members };
  },
});

export const topicCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'topic',
    aliases: [],
    bare: [],
    args: [{ name: 'text', kind: 'text', optional: true }],
    summary: 'show the current room topic; its owner sets it (- clears it)',
    group: 'rooms',
  },
  args: z.object({ room: z.string().default(LOBBY), text: ruledText('topic').optional() }),
  async handle({ core, session }, args) {
    const room = findOwnRoomOrThrow(core, args.room, 'given a topic');
    if (args.text === undefined || args.text.trim() === '')
      return { room: room.name, topic: room.topic };
    requireMember(session, room);
    requireOwnerOrAdmin(session, room, 'set the topic of');
    const text = args.text.trim();
    const max = core.params['message.maxLength'];
    if (!withinCharacters(text, max))
      throw new ChatError('message_too_long', `A topic has at most ${max} characters`, { max });
    const topic = text === NO_TOPIC ? null : text;
    if (room.storeId !== null) await core.store.rooms.setTopic(room.storeId, topic);
    room.topic = topic;
    core.nodes.broadcast({ type: 'room-topic', room: room.key, topic });
    core.publish(
      { kind: 'room', room: room.key },
      { ev: 'room_topic', room: room.name, topic, by: session.nick },
    );
    // Every node's copy has it before the reply (see `create`).
    await core.nodes.barrier();
    return { room: room.name, topic };
  },
});

export const historyCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'history',
    aliases: [],
    bare: [],
    args: [{ name: 'count', kind: 'integer', optional: true }],
    summary: 'the last N messages of the current room',
    group: 'rooms',
  },
  args: z.object({
    room: z.string().default(LOBBY),
    count: z.number().int().min(1).max(HISTORY_MAX).optional(),
    before: z.number().int().min(1).optional(),
    /** Only messages after this id (IRC's CHATHISTORY AFTER, BETWEEN, AROUND). */
    after: z.number().int().min(0).optional(),
    /** With more than `count` in range, the oldest rather than the newest. */
    oldest: z.boolean().optional(),
  }),
  async handle({ core, session }, args) {
    const found = findRoom(core, args.room);
    const room = found.lobby ? undefined : found.room;
    if (room) requireMember(session, room);
    const key = room?.key ?? LOBBY;
    const count = args.count ?? (core.params['history.replay'] || HISTORY_FALLBACK);
    const lower = Math.max(room?.historyFloor ?? 0, args.after ?? 0);
    // One more than asked tells whether more remain (older ones, or newer with `oldest`).
    const rows = args.oldest
      ? await core.store.messages.firstInRoom(key, count + 1, lower, args.before)
      : await core.store.messages.recentInRoom(key, count + 1, args.before, lower);
    const more = rows.length > count;
    const kept = more ? (args.oldest ? rows.slice(0, count) : rows.slice(1)) : rows;
    const messages = kept
      // An append to an earlier room of that name may commit after this one's floor.
      .filter((message) => !room || message.ts >= room.createdAt)
      .filter((message) => !session.blocks.has(nameKey(message.sender)))
      .map((message) => ({
        mid: message.id,
        ts: message.ts,
        from: message.sender,
        text: message.text,
      }));
    return { room: room?.name ?? LOBBY, messages, more };
  },
});

/** Whether `member` (on any node) owns `room`. */
function isOwner(room: Room, member: SessionSummary): boolean {
  const owner = room.owner;
  if (owner.kind === 'guest') return owner.session.id === member.id;
  // Another node's copy of a guest's room knows its owner by name (held once at a time).
  if (owner.accountId === null) return member.account === null && owner.name === member.nick;
  return owner.accountId === member.account?.id;
}
