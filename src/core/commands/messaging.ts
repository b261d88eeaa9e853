import { textProblem } from '../text-rules.js';
import { z } from 'zod';
import { ChatError } from '../errors.js';
import type { MessageRecipient, NewMessage, StoredMessage } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { LOBBY } from '../rooms/lobby.js';
import { nameKey, withinCharacters } from '../names.js';
import { defineCommand, type SessionContext } from './command.js';
import {
  type LiveRecipient,
  type PrivateRecipients,
  resolveLocalRecipients,
  resolvePrivateRecipients,
} from './private-recipients.js';
import type { Session } from '../session.js';

export function checkText(core: ChatCore, text: string): string {
  if (text.trim() === '') throw new ChatError('empty_message');
  const problem = textProblem(text, 'message');
  if (problem) throw new ChatError('invalid_args', problem);
  const max = core.params['message.maxLength'];
  if (!withinCharacters(text, max))
    throw new ChatError('message_too_long', `A message has at most ${max} characters`, { max });
  return text;
}

/**
 * Stores, then fans out, a room message: nothing is delivered or acknowledged unstored.
 * `room` is the room's key (messages are stored and routed by key), `roomName` its spelling.
 */
function sayInRoom(
  { core, session, appendInOrder }: SessionContext,
  room: string,
  roomName: string,
  text: string,
  kind: 'room' | 'broadcast' = 'room',
) {
  // The room as it is now: if it is closed (and perhaps made again) before the commit,
  // the message belongs to the room that was, and is not fanned out to the new one.
  const incarnation = room === LOBBY ? undefined : core.rooms.get(room);
  const message = {
    ts: core.clock.now(),
    sender: session.nick,
    senderAccountId: session.account?.id ?? null,
    room,
    recipients: NO_RECIPIENTS,
    text,
  };
  return appendInOrder(message, (stored) => {
    core.messageLog.record({ ts: stored.ts, sender: session.nick, target: `#${room}`, text });
    core.telemetry.messageSent(kind);
    if (room === LOBBY || core.rooms.get(room) === incarnation)
      // The event in one object, its fields in the order `EventFactory.make` gives them (as
      // a private message's): no payload to copy, no options object.
      core.publishEvent(
        { kind: 'room', room },
        {
          ev: 'message',
          mid: stored.id,
          room: roomName,
          from: session.nick,
          text,
          id: core.events.id(),
          ts: stored.ts,
        },
        session,
        session.nickKey,
      );
    return { mid: stored.id, ts: stored.ts };
  });
}

export const sayCommand = defineCommand({
  phase: 'session',
  pipelined: true,
  info: {
    name: 'say',
    aliases: [],
    bare: [],
    args: [{ name: 'text', kind: 'text' }],
    summary: 'send a message to the current room (plain text does this)',
    group: 'messaging',
  },
  args: z.object({ room: z.string().default(LOBBY), text: z.string() }),
  handle(ctx, { room, text }) {
    const { core, session } = ctx;
    checkText(core, text);
    // `#dev` is how rooms are shown; the sign is not part of the name.
    const key = nameKey(room.startsWith('#') ? room.slice(1) : room);
    if (!session.isIn(key))
      throw new ChatError('unknown_room', `You are not in a room called "${room}"`);
    const name = key === LOBBY ? LOBBY : (core.rooms.get(key)?.name ?? room);
    return sayInRoom(ctx, key, name, text);
  },
});

export const broadcastCommand = defineCommand({
  phase: 'session',
  pipelined: true,
  info: {
    name: 'broadcast',
    aliases: [],
    bare: ['broadcast'],
    args: [{ name: 'text', kind: 'text' }],
    summary: 'send a message to everyone online (the lobby)',
    group: 'messaging',
  },
  args: z.object({ text: z.string() }),
  handle(ctx, { text }) {
    checkText(ctx.core, text);
    return sayInRoom(ctx, LOBBY, LOBBY, text, 'broadcast');
  },
});

export const msgCommand = defineCommand({
  phase: 'session',
  pipelined: true,
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
  handle(ctx, { to, text }) {
    const { core, session, commitInOrder, appendInOrder } = ctx;
    checkText(core, text);
    // Recipients on this node are found at once: the usual message is refused or stored
    // now, without a promise before its append (nor one for it: `appendInOrder`).
    const local = resolveLocalRecipients(core, session, to);
    if (local) {
      const outgoing = preparePrivate(session, local);
      return appendInOrder(privateMessage(core, session, text, outgoing), (message) =>
        deliverPrivate(core, session, text, outgoing, message),
      );
    }
    // Finding another node's user is a round trip to the directory (Redis): the sender's
    // next message must not wait for it, or a busy sender's messages queue one round trip
    // apiece (the cross-node p99 was 400 ms so). So the message takes its place in the
    // sender's order now, and the lookup, its refusals and the append run inside it.
    const committing = resolvePrivateRecipients(core, session, to).then((resolved) => {
      const outgoing = preparePrivate(session, resolved);
      return core.store.messages
        .append(privateMessage(core, session, text, outgoing))
        .then((message) => ({
          message,
          outgoing,
        }));
    });
    return commitInOrder(committing, ({ message, outgoing }) =>
      deliverPrivate(core, session, text, outgoing, message),
    );
  },
});

/** A room message's recipients (the room's members are not listed): one shared array. */
const NO_RECIPIENTS: readonly MessageRecipient[] = Object.freeze([]);

/** Nobody: shared by the replies of messages with no recipient of that kind. */
const NOBODY: readonly string[] = Object.freeze([]);

/** A private message sorted out: who gets it now, who later, and what the reply says. */
interface OutgoingPrivate {
  /** Online recipients who do not block the sender, and their sessions' ids. */
  readonly live: readonly LiveRecipient[];
  readonly liveIds: readonly string[];
  readonly offline: PrivateRecipients['stored'];
  /** Every recipient named in the event and the log: `delivered`, then `stored`. */
  readonly names: readonly string[];
  readonly delivered: readonly string[];
  readonly stored: readonly string[];
  readonly unknown: readonly string[];
  readonly full: readonly string[];
}

/**
 * Refuses a private message nobody can get, or says who gets it. This object (and the
 * message) is what waits for the commit: each list is built once, without intermediate
 * copies, and shared when empty.
 */
function preparePrivate(session: Session, resolved: PrivateRecipients): OutgoingPrivate {
  const { stored: offline, hiddenLive, hiddenStored, unknown, full } = resolved;
  // The sender is never a recipient (it would be reported delivered, and the sender's
  // copy is the reply): left out of a group, refused alone. Found among the resolved
  // recipients, so the hot path normalises no name twice.
  const live = resolved.live.some((target) => target.id === session.id)
    ? resolved.live.filter((target) => target.id !== session.id)
    : resolved.live;
  const others =
    live.length +
    offline.length +
    hiddenLive.length +
    hiddenStored.length +
    unknown.length +
    full.length;
  if (live.length < resolved.live.length && others === 0)
    throw new ChatError('invalid_target', 'You cannot send a private message to yourself');
  const delivered = namesOf(live, hiddenLive);
  const stored = namesOf(offline, hiddenStored);
  if (delivered.length + stored.length === 0) {
    if (full.length > 0 && unknown.length === 0)
      throw new ChatError(
        'inbox_full',
        `The inbox of ${full.join(', ')} is full: try again once they have read it`,
        { full },
      );
    const names = [...unknown, ...full];
    throw new ChatError(
      'unknown_user',
      `No such user (or a guest who is offline): ${names.join(', ')}`,
      { unknown, full },
    );
  }
  return {
    live,
    liveIds: live.length === 0 ? NOBODY : live.map((target) => target.id),
    offline,
    names: stored.length === 0 ? delivered : [...delivered, ...stored],
    delivered,
    stored,
    unknown,
    full,
  };
}

/** A private message as it is stored, for its recipients. */
function privateMessage(
  core: ChatCore,
  session: Session,
  text: string,
  { live, offline }: OutgoingPrivate,
): NewMessage {
  // Recipients who block the sender get no copy at all, not even in their inbox.
  const recipients = new Array<MessageRecipient>(live.length + offline.length);
  for (let index = 0; index < live.length; index++) {
    const target = live[index]!;
    recipients[index] = {
      nick: target.nick,
      accountId: target.accountId,
      delivery: 'live',
      guest: target.guest,
    };
  }
  for (let index = 0; index < offline.length; index++) {
    const account = offline[index]!;
    recipients[live.length + index] = {
      nick: account.name,
      accountId: account.id,
      delivery: 'stored',
      guest: undefined,
    };
  }
  return {
    ts: core.clock.now(),
    sender: session.nick,
    senderAccountId: session.account?.id ?? null,
    room: null,
    recipients,
    text,
  };
}

/** Once stored, and in the sender's order: the fan-out, monitor copies and the reply's data. */
function deliverPrivate(
  core: ChatCore,
  session: Session,
  text: string,
  { liveIds, names, delivered, stored, unknown, full }: OutgoingPrivate,
  message: StoredMessage,
) {
  // Private messages reach the log only when the operator said so, and everyone knows.
  if (core.params['logs.privateMessages'])
    core.messageLog.record({
      ts: message.ts,
      sender: session.nick,
      target: names.join(','),
      text,
    });
  core.telemetry.messageSent('private');
  if (liveIds.length > 0)
    // The event in one object, its fields in the order `EventFactory.make` gives them.
    core.publishEvent(
      { kind: 'sessions', ids: liveIds },
      {
        ev: 'private',
        mid: message.id,
        from: session.nick,
        to: names,
        text,
        id: core.events.id(),
        ts: message.ts,
      },
      session,
      session.nickKey,
    );
  if (core.admin.moderation.isMonitoring)
    core.admin.moderation.copyToMonitors(
      { mid: message.id, from: session.nick, to: names, text, ts: message.ts },
      new Set([session.id, ...liveIds]),
    );
  return { mid: message.id, ts: message.ts, delivered, stored, unknown, full };
}

/** The names of `people` then `more`, in one array made once (shared when empty). */
function namesOf(
  people: readonly ({ readonly nick: string } | { readonly name: string })[],
  more: readonly string[],
): readonly string[] {
  const count = people.length + more.length;
  if (count === 0) return NOBODY;
  const names = new Array<string>(count);
  for (let index = 0; index < people.length; index++) {
    const person = people[index]!;
    names[index] = 'nick' in person ? person.nick : person.name;
  }
  for (let index = 0; index < more.length; index++) names[people.length + index] = more[index]!;
  return names;
}
