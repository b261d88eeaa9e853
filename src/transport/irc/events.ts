import { LOBBY } from '../../protocol/names.js';
import { nameKey } from '../../protocol/names.js';
import type { ChatEvent } from '../../protocol/events.js';
import type { IrcClient } from './irc-client.js';
import { formatMessage, lineSafe, type OutgoingTags } from './message.js';
import { RPL } from './numerics.js';
import { textLines } from './text.js';
import { describeFile, SERVICE_NICK } from './service.js';

export const channelOf = (room: string): string => `#${room}`;

/** Above `presence.announceMax` online the lobby is an auditorium: no JOIN, PART or NAMES. */
export function lobbyIsQuiet(client: IrcClient): boolean {
  return client.core.onlineCount > client.core.params['presence.announceMax'];
}

/** How a Confab event reaches an IRC client. */
export function translateEvent(client: IrcClient, event: ChatEvent): void {
  const me = client.nick;
  switch (event.ev) {
    case 'message': {
      // A client that fetches history itself (draft/chathistory) gets no replay on join.
      if (event.replay === 'history' && client.has('draft/chathistory')) return;
      const tags = client.messageTags(event.ts, String(event.mid), client.accountOf(event.from));
      sendText(client, tags, event.from, 'PRIVMSG', channelOf(event.room), event.text);
      return;
    }
    case 'private': {
      const tags = client.messageTags(event.ts, String(event.mid), client.accountOf(event.from));
      sendText(client, tags, event.from, 'PRIVMSG', me, event.text);
      return;
    }
    case 'online':
      if (event.nick === me || lobbyIsQuiet(client)) return;
      client.out(joinLine(client, event.nick, channelOf(LOBBY)));
      return;
    case 'offline':
      client.shared.away.delete(nameKey(event.nick));
      if (event.nick === me) return;
      client.out(
        formatMessage(
          client.mask(event.nick),
          'QUIT',
          [quitReason(event.reason, event.message)],
          [],
          true,
        ),
      );
      return;
    case 'renamed':
      moveAway(client, event.from, event.to);
      client.out(formatMessage(client.mask(event.from), 'NICK', [event.to]));
      return;
    case 'away':
      rememberAway(client, event.nick, event.message);
      // The user hears 305/306 in answer to AWAY; others with away-notify get AWAY.
      if (event.nick === me || !client.has('away-notify')) return;
      client.out(
        formatMessage(
          client.mask(event.nick),
          'AWAY',
          event.message === null ? [] : [lineSafe(event.message)],
          [],
          true,
        ),
      );
      return;
    case 'account':
      if (client.has('account-notify'))
        client.out(formatMessage(client.mask(event.nick), 'ACCOUNT', [event.account ?? '*']));
      return;
    case 'room_entered':
      renderJoin(client, event.room, event.owner, event.topic);
      return;
    case 'room_left':
      if (event.reason === 'removed' && event.by !== undefined)
        client.out(
          formatMessage(
            client.mask(event.by),
            'KICK',
            [channelOf(event.room), me, lineSafe(event.message ?? event.by)],
            [],
            true,
          ),
        );
      else client.out(partLine(client, me, event.room, event.message));
      return;
    case 'room_join':
      client.out(joinLine(client, event.nick, channelOf(event.room)));
      awayOnJoin(client, event.nick);
      return;
    case 'room_leave':
      if (event.by !== undefined)
        client.out(
          formatMessage(
            client.mask(event.by),
            'KICK',
            [channelOf(event.room), event.nick, lineSafe(event.reason ?? event.by)],
            [],
            true,
          ),
        );
      else client.out(partLine(client, event.nick, event.room, event.reason));
      return;
    case 'room_closed':
      client.out(
        formatMessage(client.mask(event.by), 'KICK', [
          channelOf(event.room),
          me,
          `${event.by} closed the room`,
        ]),
      );
      return;
    case 'room_topic':
      client.shared.topicSetters.set(nameKey(event.room), { by: event.by, at: event.ts });
      client.out(
        formatMessage(
          client.mask(event.by),
          'TOPIC',
          [channelOf(event.room), lineSafe(event.topic ?? '')],
          [],
          true,
        ),
      );
      return;
    case 'notice':
      if (event.from !== undefined)
        sendText(
          client,
          client.messageTags(event.ts, undefined),
          event.from,
          'NOTICE',
          me,
          event.text,
        );
      else serviceNotice(client, event.text);
      return;
    case 'shutdown':
      serviceNotice(
        client,
        `The server shuts down in ${event.seconds} seconds${event.reason ? `: ${event.reason}` : ''}`,
      );
      return;
    case 'shutdown_cancelled':
      serviceNotice(client, `${event.by} cancelled the shutdown`);
      return;
    case 'suspension':
      serviceNotice(
        client,
        event.nick === me
          ? event.suspended
            ? `You are suspended by ${event.by}: you can read and quit, nothing else`
            : `${event.by} lifted your suspension`
          : `${event.nick} is ${event.suspended ? 'suspended' : 'no longer suspended'} (by ${event.by})`,
      );
      return;
    case 'monitor':
      serviceNotice(
        client,
        event.on
          ? `Private messages are being monitored by the administrators${event.by ? ` (turned on by ${event.by})` : ''}`
          : `Private messages are no longer monitored${event.by ? ` (turned off by ${event.by})` : ''}`,
      );
      return;
    case 'warning':
      serviceNotice(
        client,
        `Warning from ${event.by}: ${event.reason} (warning ${event.warnings})`,
      );
      return;
    case 'monitored':
      serviceNotice(client, `[monitor] ${event.from} → ${event.to.join(', ')}: ${event.text}`);
      return;
    case 'file':
    case 'shared':
    case 'filegone':
      serviceNotice(client, describeFile(event));
      return;
    case 'filedata':
    case 'fileabort':
      return;
    default:
      // A new Confab event: the compiler asks for its IRC form here.
      return assertNever(event);
  }
}

function assertNever(value: never): void {
  void value;
}

function quitReason(reason: string, message: string | undefined): string {
  switch (reason) {
    case 'quit':
      return message ? `Quit: ${message}` : 'Quit';
    case 'kicked':
    case 'banned':
      return message
        ? `${reason === 'kicked' ? 'Killed' : 'Banned'}: ${message}`
        : reason === 'kicked'
          ? 'Killed'
          : 'Banned';
    case 'timeout':
      return 'Idle timeout';
    case 'dropped':
      return 'Connection lost';
    case 'shutdown':
      return 'Server shutting down';
    case 'replaced':
      return 'Logged in elsewhere';
    default:
      return message ?? reason;
  }
}

/** A notice from the `Confab` service user. */
export function serviceNotice(client: IrcClient, text: string): void {
  for (const line of textLines([], client.mask(SERVICE_NICK), 'NOTICE', client.nick, text))
    client.out(line);
}

/** A text from `from`, as PRIVMSG or NOTICE lines (a `* nick …` text as a CTCP ACTION). */
export function sendText(
  client: IrcClient,
  tags: OutgoingTags,
  from: string,
  command: 'PRIVMSG' | 'NOTICE',
  target: string,
  text: string,
): void {
  const action = `* ${from} `;
  const body =
    command === 'PRIVMSG' && text.startsWith(action) && !/[\r\n]/.test(text)
      ? `\x01ACTION ${text.slice(action.length)}\x01`
      : text;
  for (const line of textLines(tags, client.mask(from), command, target, body)) client.out(line);
}

function partLine(client: IrcClient, nick: string, room: string, reason?: string): string {
  const params = [channelOf(room), ...(reason ? [lineSafe(reason)] : [])];
  return formatMessage(client.mask(nick), 'PART', params, [], reason !== undefined);
}

/**
 * RPL_TOPICWHOTIME: who set the topic and when, as this gateway saw it happen; for a topic
 * set before, the room's owner and its creation.
 */
export function topicWhoTime(client: IrcClient, channel: string, room: string): void {
  const seen = client.shared.topicSetters.get(nameKey(room));
  const known = client.core.rooms.get(nameKey(room));
  const by = seen?.by ?? known?.ownerName;
  if (by === undefined) return;
  const at = seen?.at ?? known?.createdAt ?? 0;
  client.out(
    formatMessage(client.serverName, RPL.TOPICWHOTIME, [
      client.nick,
      channel,
      client.mask(by),
      String(Math.floor(at / 1000)),
    ]),
  );
}

/** away-notify: a user who joins while away is followed by their AWAY (the spec asks it). */
function awayOnJoin(client: IrcClient, nick: string): void {
  if (!client.has('away-notify')) return;
  const away = client.awayOf(nick);
  if (away !== undefined)
    client.out(formatMessage(client.mask(nick), 'AWAY', [lineSafe(away)], [], true));
}

/** Away messages of users on other nodes are known only from their `away` events. */
function rememberAway(client: IrcClient, nick: string, message: string | null): void {
  if (client.core.findSession(nameKey(nick))) return;
  if (message === null) client.shared.away.delete(nameKey(nick));
  else client.shared.away.set(nameKey(nick), message);
}

function moveAway(client: IrcClient, from: string, to: string): void {
  const away = client.shared.away.get(nameKey(from));
  if (away === undefined) return;
  client.shared.away.delete(nameKey(from));
  client.shared.away.set(nameKey(to), away);
}

function joinLine(client: IrcClient, nick: string, channel: string): string {
  if (!client.has('extended-join')) return formatMessage(client.mask(nick), 'JOIN', [channel]);
  const account = client.accountOf(nick) ?? '*';
  return formatMessage(client.mask(nick), 'JOIN', [channel, account, nick], [], true);
}

/** The lobby, joined at the welcome as every Confab session is in it. */
export function joinLobby(client: IrcClient): void {
  renderJoin(client, LOBBY, null, null);
}

/**
 * Our own JOIN, the topic, then NAMES (fetched with the `members` command); what happens
 * in the room meanwhile waits, so it comes after the names as on any IRC server.
 */
export function renderJoin(
  client: IrcClient,
  room: string,
  owner: string | null,
  topic: string | null,
): void {
  const me = client.nick;
  const channel = channelOf(room);
  client.out(joinLine(client, me, channel));
  if (topic !== null) {
    client.out(
      formatMessage(client.serverName, RPL.TOPIC, [me, channel, lineSafe(topic)], [], true),
    );
    if (owner !== null) topicWhoTime(client, channel, room);
  }
  client.hold();
  client.joinRendering = sendNames(client, room).finally(() => {
    client.joinRendering = null;
    client.releaseHeld();
  });
}

/** RPL_NAMREPLY lines and RPL_ENDOFNAMES for one room, from the `members` command. */
export async function sendNames(client: IrcClient, room: string): Promise<void> {
  const channel = channelOf(room);
  const reply = await client.request('members', { room });
  const me = client.nick;
  if (reply.ok) {
    const data = reply.data as {
      members: Array<{ nick: string; online: boolean; owner: boolean }>;
    };
    let members = data.members.filter((member) => member.online);
    if (room === LOBBY && lobbyIsQuiet(client))
      members = members.filter((member) => member.nick === me);
    const names = members.map((member) => {
      const prefix = member.owner ? '@' : '';
      return client.has('userhost-in-names')
        ? prefix + client.mask(member.nick)
        : prefix + member.nick;
    });
    const head = formatMessage(client.serverName, RPL.NAMREPLY, [me, '=', channel, 'x'], [], true);
    const budget = 510 - Buffer.byteLength(head);
    let line: string[] = [];
    let size = 0;
    for (const name of names) {
      if (line.length > 0 && size + name.length + 1 > budget) {
        client.out(
          formatMessage(
            client.serverName,
            RPL.NAMREPLY,
            [me, '=', channel, line.join(' ')],
            [],
            true,
          ),
        );
        line = [];
        size = 0;
      }
      line.push(name);
      size += Buffer.byteLength(name) + 1;
    }
    if (line.length > 0)
      client.out(
        formatMessage(
          client.serverName,
          RPL.NAMREPLY,
          [me, '=', channel, line.join(' ')],
          [],
          true,
        ),
      );
  }
  client.out(formatMessage(client.serverName, RPL.ENDOFNAMES, [me, channel, 'End of /NAMES list']));
}
