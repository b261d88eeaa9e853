import { z } from 'zod';
import { ChatError } from '../errors.js';
import { LOBBY, type ChatCore } from '../chat-core.js';
import { checkName, withinCharacters } from '../names.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';

function checkText(core: ChatCore, text: string): string {
  if (text.trim() === '') throw new ChatError('empty_message');
  const max = core.params['message.maxLength'];
  if (!withinCharacters(text, max))
    throw new ChatError('message_too_long', `A message has at most ${max} characters`, { max });
  return text;
}

/** Stores, then fans out, a room message: nothing is delivered or acknowledged unstored. */
async function sayInRoom(core: ChatCore, session: Session, room: string, text: string) {
  const stored = await core.store.messages.append({
    ts: core.clock.now(),
    sender: session.nick,
    senderAccountId: session.account?.id ?? null,
    room,
    recipients: [],
    text,
  });
  core.messageLog.record({ ts: stored.ts, sender: session.nick, target: `#${room}`, text });
  core.publish(
    { kind: 'room', room },
    { ev: 'message', mid: stored.id, room, from: session.nick, text },
    { exclude: session, senderKey: session.nickKey, ts: stored.ts },
  );
  return { mid: stored.id, ts: stored.ts };
}

export const sayCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'say',
    aliases: [],
    bare: [],
    args: [{ name: 'text', kind: 'text' }],
    summary: 'send a message to the current room (plain text does this)',
    group: 'messaging',
  },
  args: z.object({ room: z.string().default(LOBBY), text: z.string() }),
  handle({ core, session }, { room, text }) {
    checkText(core, text);
    if (!session.rooms.has(room))
      throw new ChatError('unknown_room', `You are not in a room called "${room}"`);
    return sayInRoom(core, session, room, text);
  },
});

export const broadcastCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'broadcast',
    aliases: [],
    bare: ['broadcast'],
    args: [{ name: 'text', kind: 'text' }],
    summary: 'send a message to everyone online (the lobby)',
    group: 'messaging',
  },
  args: z.object({ text: z.string() }),
  handle({ core, session }, { text }) {
    checkText(core, text);
    return sayInRoom(core, session, LOBBY, text);
  },
});

export const msgCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'msg',
    aliases: ['message'],
    bare: ['message'],
    args: [
      { name: 'to', kind: 'names' },
      { name: 'text', kind: 'text' },
    ],
    summary: 'private message to one or several users (also: @a @b text)',
    group: 'messaging',
  },
  args: z.object({ to: z.array(z.string()).min(1).max(100), text: z.string() }),
  async handle({ core, session }, { to, text }) {
    checkText(core, text);
    const recipients: Session[] = [];
    const unknown: string[] = [];
    const seen = new Set<string>();
    for (const name of to) {
      const checked = checkName(name);
      const target = checked.ok ? core.findSession(checked.key) : undefined;
      if (!target) {
        unknown.push(name);
        continue;
      }
      if (seen.has(target.nickKey)) continue;
      seen.add(target.nickKey);
      recipients.push(target);
    }
    if (recipients.length === 0)
      throw new ChatError('unknown_user', `No such user online: ${unknown.join(', ')}`, {
        unknown,
      });
    const names = recipients.map((recipient) => recipient.nick);
    const stored = await core.store.messages.append({
      ts: core.clock.now(),
      sender: session.nick,
      senderAccountId: session.account?.id ?? null,
      room: null,
      recipients: recipients.map((recipient) => ({
        nick: recipient.nick,
        accountId: recipient.account?.id ?? null,
      })),
      text,
    });
    core.messageLog.record({ ts: stored.ts, sender: session.nick, target: names.join(','), text });
    core.publish(
      { kind: 'sessions', ids: recipients.map((recipient) => recipient.id) },
      { ev: 'private', mid: stored.id, from: session.nick, to: names, text },
      { exclude: session, senderKey: session.nickKey, ts: stored.ts },
    );
    return { mid: stored.id, ts: stored.ts, delivered: names, unknown };
  },
});
