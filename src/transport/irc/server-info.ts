import type { IrcClient } from './irc-client.js';
import { formatMessage } from './message.js';
import { ERR, RPL } from './numerics.js';

/**
 * LUSERS: counts of users, operators (Confab's admins) and channels. Confab is one
 * server to IRC (a cluster's nodes share one chat), so local and global counts agree.
 */
export function sendLusers(client: IrcClient, out: (line: string) => void): void {
  const core = client.core;
  const server = client.serverName;
  const nick = client.nick;
  const users = core.onlineCount;
  let admins = 0;
  for (const session of core.onlineSessions()) if (session.isAdmin) admins++;
  const channels = 1 + [...core.rooms.all()].length;
  out(
    formatMessage(server, RPL.LUSERCLIENT, [
      nick,
      `There are ${users} users and 0 invisible on 1 servers`,
    ]),
  );
  out(formatMessage(server, RPL.LUSEROP, [nick, String(admins), 'operator(s) online']));
  out(formatMessage(server, RPL.LUSERCHANNELS, [nick, String(channels), 'channels formed']));
  out(formatMessage(server, RPL.LUSERME, [nick, `I have ${users} clients and 0 servers`]));
  out(
    formatMessage(server, RPL.LOCALUSERS, [
      nick,
      String(users),
      String(users),
      `Current local users ${users}, max ${users}`,
    ]),
  );
  out(
    formatMessage(server, RPL.GLOBALUSERS, [
      nick,
      String(users),
      String(users),
      `Current global users ${users}, max ${users}`,
    ]),
  );
}

export function sendMotd(client: IrcClient, out: (line: string) => void): void {
  const server = client.serverName;
  const nick = client.nick;
  const motd = client.shared.motd;
  if (motd.length === 0) {
    out(formatMessage(server, ERR.NOMOTD, [nick, 'MOTD File is missing']));
    return;
  }
  out(formatMessage(server, RPL.MOTDSTART, [nick, `- ${server} Message of the day - `]));
  for (const line of motd) out(formatMessage(server, RPL.MOTD, [nick, `- ${line}`]));
  out(formatMessage(server, RPL.ENDOFMOTD, [nick, 'End of /MOTD command.']));
}

export function handleLusers(client: IrcClient): void {
  sendLusers(client, (line) => client.out(line));
}

export function handleMotd(client: IrcClient): void {
  sendMotd(client, (line) => client.out(line));
}
