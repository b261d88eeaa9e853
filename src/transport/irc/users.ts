import { LOBBY } from '../../protocol/names.js';
import { nameKey } from '../../protocol/names.js';
import { roomOf } from './channels.js';
import { channelOf, lobbyIsQuiet } from './events.js';
import type { IrcClient } from './irc-client.js';
import { AWAY_MAX_LENGTH } from './isupport.js';
import { lineSafe, type IrcMessage } from './message.js';
import { textFromIrc } from './text.js';
import { ERR, RPL } from './numerics.js';

interface WhoisData {
  nick: string;
  online: boolean;
  account: boolean;
  role: string;
  lastSeen: number | null;
  rooms: string[];
  since?: number;
  idleSeconds?: number;
  status?: string;
  awayMessage?: string;
}

interface MemberRow {
  nick: string;
  online: boolean;
  owner: boolean;
}

/** `H` here or `G` gone (away), `*` for an admin, `@` for a room's owner. */
function whoFlags(client: IrcClient, nick: string, owner: boolean): string {
  const session = client.core.findSession(nameKey(nick));
  const away = client.awayOf(nick) !== undefined || session?.link === null;
  return (away ? 'G' : 'H') + (session?.isAdmin ? '*' : '') + (owner ? '@' : '');
}

function whoReply(client: IrcClient, channel: string, nick: string, owner: boolean): void {
  const s = client.serverName;
  client.numeric(
    RPL.WHOREPLY,
    channel,
    nick,
    s,
    s,
    nick,
    whoFlags(client, nick, owner),
    `0 ${nick}`,
  );
}

export async function handleWho(client: IrcClient, message: IrcMessage): Promise<void> {
  const mask = message.params[0] ?? '*';
  const room = roomOf(mask);
  if (room !== undefined) {
    const quiet = nameKey(room) === LOBBY && lobbyIsQuiet(client);
    const reply = quiet ? undefined : await client.request('members', { room });
    if (reply?.ok) {
      const members = (reply.data as { members: MemberRow[] }).members;
      for (const member of members)
        if (member.online) whoReply(client, mask, member.nick, member.owner);
    }
  } else if (!mask.includes('*') && !mask.includes('?')) {
    if (client.core.findSession(nameKey(mask)))
      whoReply(client, '*', client.core.findSession(nameKey(mask))!.nick, false);
  }
  client.numeric(RPL.ENDOFWHO, mask, 'End of WHO list');
}

export async function handleWhois(client: IrcClient, message: IrcMessage): Promise<void> {
  const nick = message.params.length >= 2 ? message.params[1] : message.params[0];
  if (nick === undefined || nick === '')
    return client.numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
  const target = nick.split(',')[0]!;
  const reply = await client.request('whois', { name: target });
  const data = reply.ok ? (reply.data as WhoisData) : undefined;
  if (!data?.online) {
    client.numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
    client.numeric(RPL.ENDOFWHOIS, target, 'End of /WHOIS list');
    return;
  }
  const s = client.serverName;
  const who = data.nick;
  client.numeric(RPL.WHOISUSER, who, who, s, '*', who);
  const channels = data.rooms.map((room) => {
    const owned = client.core.rooms.get(nameKey(room));
    const isOwner = owned ? owned.ownerName === who : false;
    return (isOwner ? '@' : '') + channelOf(room);
  });
  if (channels.length > 0) client.numeric(RPL.WHOISCHANNELS, who, channels.join(' '));
  client.numeric(RPL.WHOISSERVER, who, s, 'Confab');
  if (data.role === 'admin') client.numeric(RPL.WHOISOPERATOR, who, 'is a server administrator');
  const away = data.awayMessage ?? client.awayOf(who);
  if (away !== undefined) client.numeric(RPL.AWAY, who, away);
  else if (data.status === 'away')
    client.numeric(RPL.AWAY, who, 'Connection lost: waiting to resume');
  if (data.idleSeconds !== undefined && data.since !== undefined)
    client.numeric(
      RPL.WHOISIDLE,
      who,
      String(data.idleSeconds),
      String(Math.floor(data.since / 1000)),
      'seconds idle, signon time',
    );
  if (data.account) client.numeric(RPL.WHOISACCOUNT, who, who, 'is logged in as');
  client.numeric(RPL.ENDOFWHOIS, who, 'End of /WHOIS list');
}

export async function handleWhowas(client: IrcClient, message: IrcMessage): Promise<void> {
  const nick = message.params[0];
  if (nick === undefined || nick === '')
    return client.numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
  const reply = await client.request('whois', { name: nick });
  const data = reply.ok ? (reply.data as WhoisData) : undefined;
  if (data && !data.online) {
    const s = client.serverName;
    client.numeric(RPL.WHOWASUSER, data.nick, data.nick, s, '*', data.nick);
    const seen = data.lastSeen === null ? 'a while ago' : new Date(data.lastSeen).toUTCString();
    client.numeric(RPL.WHOISSERVER, data.nick, s, `last seen ${seen}`);
  } else client.numeric(ERR.WASNOSUCHNICK, nick, 'There was no such nickname');
  client.numeric(RPL.ENDOFWHOWAS, nick, 'End of WHOWAS');
}

export function handleIson(client: IrcClient, message: IrcMessage): void {
  const online = message.params
    .flatMap((param) => param.split(' '))
    .filter((nick) => nick !== '' && client.core.findSession(nameKey(nick)) !== undefined)
    .map((nick) => client.core.findSession(nameKey(nick))!.nick);
  client.numeric(RPL.ISON, online.join(' '));
}

export function handleUserhost(client: IrcClient, message: IrcMessage): void {
  const replies = message.params.slice(0, 5).flatMap((nick) => {
    const session = client.core.findSession(nameKey(nick));
    if (!session) return [];
    const away = session.awayMessage !== null || session.link === null ? '-' : '+';
    return [
      `${session.nick}${session.isAdmin ? '*' : ''}=${away}${session.nick}@${client.serverName}`,
    ];
  });
  client.numeric(RPL.USERHOST, replies.join(' '));
}

/**
 * AWAY is Confab's `/away`: kept on the session, so terminal and browser users see it in
 * `/who` and `/whois`, and every node's IRC users get it through the `away` event
 * (away-notify, see events.ts).
 */
export async function handleAway(client: IrcClient, message: IrcMessage): Promise<void> {
  const text = message.params[0];
  const away =
    text === undefined || text.trim() === ''
      ? undefined
      : (textFromIrc(lineSafe(text), client.nick) ?? '').slice(0, AWAY_MAX_LENGTH);
  const reply = await client.request('away', away === undefined ? {} : { message: away });
  if (!reply.ok) {
    client.replyError('AWAY', reply.error);
    return;
  }
  if ((reply.data as { away: string | null }).away === null)
    client.numeric(RPL.UNAWAY, 'You are no longer marked as being away');
  else client.numeric(RPL.NOWAWAY, 'You have been marked as being away');
}

export async function handleKill(client: IrcClient, message: IrcMessage): Promise<void> {
  const [nick, reason] = message.params;
  if (nick === undefined || nick === '')
    return client.numeric(ERR.NEEDMOREPARAMS, 'KILL', 'Not enough parameters');
  const session = client.link.session!;
  if (!session.isAdmin)
    return client.numeric(
      ERR.NOPRIVILEGES,
      'Permission Denied- You do not have the correct IRC operator privileges',
    );
  const reply = await client.request(
    'kick',
    reason === undefined || reason === '' ? { nick } : { nick, reason },
  );
  if (!reply.ok) client.replyError('KILL', reply.error, nick);
}

export { channelOf };
