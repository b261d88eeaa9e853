import { LOBBY } from '../../protocol/names.js';
import { nameKey } from '../../protocol/names.js';
import { channelOf, sendNames, topicWhoTime } from './events.js';
import type { IrcClient } from './irc-client.js';
import { formatMessage, lineSafe, type IrcMessage } from './message.js';
import { ERR, RPL } from './numerics.js';
import { textFromIrc } from './text.js';

/** The room a channel names, or undefined when it is not a channel (no `#`). */
export function roomOf(channel: string): string | undefined {
  return channel.startsWith('#') && channel.length > 1 ? channel.slice(1) : undefined;
}

function needMore(client: IrcClient, command: string): void {
  client.numeric(ERR.NEEDMOREPARAMS, command, 'Not enough parameters');
}

export async function handleJoin(client: IrcClient, message: IrcMessage): Promise<void> {
  const list = message.params[0];
  if (list === undefined || list === '') return needMore(client, 'JOIN');
  const session = client.link.session!;
  if (list === '0') {
    // JOIN 0 leaves every channel but the lobby, which cannot be left.
    for (const key of [...session.joinedRooms]) {
      const name = client.core.rooms.get(key)?.name ?? key;
      await client.request('leave', { room: name });
    }
    return;
  }
  for (const channel of list.split(',')) {
    if (channel === '') continue;
    const room = roomOf(channel);
    if (room === undefined) {
      client.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
      continue;
    }
    // Already there (the lobby always): IRC servers ignore such a JOIN.
    if (session.isIn(nameKey(room))) continue;
    let reply = await client.request('join', { room });
    if (!reply.ok && reply.error.code === 'unknown_room' && client.core.params['irc.createOnJoin'])
      reply = await client.request('create', { room });
    if (!reply.ok) {
      client.replyError('JOIN', reply.error, channel);
      continue;
    }
    // The room_entered event renders JOIN, topic and names: wait for it to finish.
    await client.joinRendering;
  }
}

export async function handlePart(client: IrcClient, message: IrcMessage): Promise<void> {
  const list = message.params[0];
  if (list === undefined || list === '') return needMore(client, 'PART');
  const text = message.params[1];
  const reason =
    text === undefined || text.trim() === ''
      ? undefined
      : (textFromIrc(lineSafe(text), client.nick) ?? '').slice(0, 500) || undefined;
  for (const channel of list.split(',')) {
    if (channel === '') continue;
    const room = roomOf(channel);
    if (room === undefined || !client.link.session!.isIn(nameKey(room))) {
      const exists =
        room !== undefined && (nameKey(room) === LOBBY || client.core.rooms.get(nameKey(room)));
      if (exists) client.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
      else client.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
      continue;
    }
    const reply = await client.request('leave', reason === undefined ? { room } : { room, reason });
    if (!reply.ok) client.replyError('PART', reply.error, channel);
  }
}

export async function handleTopic(client: IrcClient, message: IrcMessage): Promise<void> {
  const [channel, text] = message.params;
  if (channel === undefined) return needMore(client, 'TOPIC');
  const room = roomOf(channel);
  if (room === undefined) return client.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  if (text === undefined) {
    if (nameKey(room) === LOBBY) return client.numeric(RPL.NOTOPIC, channel, 'No topic is set');
    const reply = await client.request('topic', { room });
    if (!reply.ok) return void client.replyError('TOPIC', reply.error, channel);
    const topic = (reply.data as { topic: string | null }).topic;
    if (topic === null) client.numeric(RPL.NOTOPIC, channel, 'No topic is set');
    else {
      client.out(
        formatMessage(
          client.serverName,
          RPL.TOPIC,
          [client.nick, channel, lineSafe(topic)],
          [],
          true,
        ),
      );
      topicWhoTime(client, channel, room);
    }
    return;
  }
  if (!client.link.session!.isIn(nameKey(room)) && nameKey(room) !== LOBBY)
    return client.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
  // An empty topic clears it, as `/topic -` does in Confab.
  const reply = await client.request('topic', { room, text: text === '' ? '-' : text });
  if (!reply.ok) client.replyError('TOPIC', reply.error, channel);
}

export async function handleNames(client: IrcClient, message: IrcMessage): Promise<void> {
  const list = message.params[0];
  if (list === undefined || list === '') {
    client.numeric(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
    return;
  }
  const channel = list.split(',')[0]!;
  const room = roomOf(channel);
  if (room === undefined || (nameKey(room) !== LOBBY && !client.core.rooms.get(nameKey(room)))) {
    client.numeric(RPL.ENDOFNAMES, channel, 'End of /NAMES list');
    return;
  }
  await sendNames(client, room);
}

export async function handleList(client: IrcClient, message: IrcMessage): Promise<void> {
  const reply = await client.request('rooms', {});
  if (!reply.ok) return void client.replyError('LIST', reply.error);
  const wanted = message.params[0]
    ?.split(',')
    .map((channel) => nameKey(roomOf(channel) ?? channel));
  client.numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
  const rooms = (
    reply.data as { rooms: Array<{ name: string; members: number; topic: string | null }> }
  ).rooms;
  for (const room of rooms) {
    if (wanted && !wanted.includes(nameKey(room.name))) continue;
    client.numeric(
      RPL.LIST,
      channelOf(room.name),
      String(room.members),
      lineSafe(room.topic ?? ''),
    );
  }
  client.numeric(RPL.LISTEND, 'End of /LIST');
}

export function handleMode(client: IrcClient, message: IrcMessage): void {
  const [target, modes] = message.params;
  if (target === undefined) return needMore(client, 'MODE');
  const room = roomOf(target);
  if (room === undefined) return userMode(client, target, modes);
  const key = nameKey(room);
  const found = key === LOBBY ? undefined : client.core.rooms.get(key);
  if (key !== LOBBY && !found) return client.numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
  if (modes === undefined) {
    // +n: only members speak; +t: only the owner (an operator) sets the topic.
    client.numeric(RPL.CHANNELMODEIS, target, '+nt');
    if (found) client.numeric(RPL.CREATIONTIME, target, String(Math.floor(found.createdAt / 1000)));
    return;
  }
  if (/^[+]?b$/.test(modes) && message.params.length === 2) {
    // Confab's bans are server-wide (/ban), not per room: every room's list is empty.
    client.numeric(RPL.ENDOFBANLIST, target, 'End of channel ban list');
    return;
  }
  const session = client.link.session!;
  if (!session.isAdmin && !found?.isOwnedBy(session))
    return client.numeric(ERR.CHANOPRIVSNEEDED, target, "You're not channel operator");
  client.failLine(
    'MODE',
    'CANNOT_CHANGE_MODE',
    'Confab rooms have fixed modes (+nt) and one owner',
    target,
  );
}

function userMode(client: IrcClient, target: string, modes: string | undefined): void {
  const session = client.link.session!;
  if (nameKey(target) !== session.nickKey) {
    const other = client.core.findSession(nameKey(target));
    if (!other) return client.numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
    return client.numeric(ERR.USERSDONTMATCH, "Can't view or change mode for other users");
  }
  const current = session.isAdmin ? '+io' : '+i';
  if (modes === undefined) return client.numeric(RPL.UMODEIS, current);
  // +i (invisible) is how every Confab user is; no other mode can be set from IRC.
  if (/^[+-]?i*$/.test(modes)) return;
  client.numeric(ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
}

export async function handleKick(client: IrcClient, message: IrcMessage): Promise<void> {
  const [channel, nick, reason] = message.params;
  if (channel === undefined || nick === undefined) return needMore(client, 'KICK');
  const room = roomOf(channel);
  if (room === undefined) return client.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  const target = nick.split(',')[0]!;
  const args =
    reason === undefined || reason === '' ? { room, nick: target } : { room, nick: target, reason };
  const reply = await client.request('remove', args);
  if (reply.ok) return;
  const code = reply.error.code;
  if (code === 'unknown_user')
    client.numeric(ERR.USERNOTINCHANNEL, target, channel, "They aren't on that channel");
  else
    client.replyError(
      'KICK',
      reply.error,
      code === 'unknown_room' || code === 'not_room_owner' || code === 'lobby_fixed'
        ? channel
        : target,
    );
}

export { formatMessage };
