import type { IrcClient } from './irc-client.js';
import type { IrcMessage } from './message.js';
import { ERR } from './numerics.js';
import {
  handleAuthenticate,
  handleCap,
  handleNick,
  handlePass,
  handlePing,
  handleQuit,
  handleUser,
} from './registration.js';
import {
  handleJoin,
  handleKick,
  handleList,
  handleMode,
  handleNames,
  handlePart,
  handleTopic,
} from './channels.js';
import { handleMessage } from './messaging.js';
import { handleLusers, handleMotd } from './server-info.js';
import {
  handleAway,
  handleIson,
  handleKill,
  handleUserhost,
  handleWho,
  handleWhois,
  handleWhowas,
} from './users.js';
import { handleChathistory } from './chathistory.js';

type Handler = (client: IrcClient, message: IrcMessage) => void | Promise<void>;

interface IrcCommand {
  readonly handle: Handler;
  /** May run before registration completes. */
  readonly early?: boolean;
}

/**
 * The IRC command table: each IRC command and the handler that translates it into Confab
 * commands. Commands not listed get ERR_UNKNOWNCOMMAND.
 */
const COMMANDS: ReadonlyMap<string, IrcCommand> = new Map<string, IrcCommand>([
  ['CAP', { handle: handleCap, early: true }],
  ['PASS', { handle: handlePass, early: true }],
  ['NICK', { handle: handleNick, early: true }],
  ['USER', { handle: handleUser, early: true }],
  ['AUTHENTICATE', { handle: handleAuthenticate, early: true }],
  ['PING', { handle: handlePing, early: true }],
  ['PONG', { handle: () => undefined, early: true }],
  ['QUIT', { handle: handleQuit, early: true }],
  ['JOIN', { handle: handleJoin }],
  ['PART', { handle: handlePart }],
  ['PRIVMSG', { handle: handleMessage }],
  ['NOTICE', { handle: handleMessage }],
  ['TOPIC', { handle: handleTopic }],
  ['NAMES', { handle: handleNames }],
  ['LIST', { handle: handleList }],
  ['MODE', { handle: handleMode }],
  ['KICK', { handle: handleKick }],
  ['WHO', { handle: handleWho }],
  ['WHOIS', { handle: handleWhois }],
  ['WHOWAS', { handle: handleWhowas }],
  ['ISON', { handle: handleIson }],
  ['USERHOST', { handle: handleUserhost }],
  ['AWAY', { handle: handleAway }],
  ['KILL', { handle: handleKill }],
  ['MOTD', { handle: handleMotd }],
  ['LUSERS', { handle: handleLusers }],
  ['CHATHISTORY', { handle: handleChathistory }],
]);

/** Handles one parsed line to completion (a labeled one with its label on the answer). */
export async function dispatch(client: IrcClient, message: IrcMessage): Promise<void> {
  const command = COMMANDS.get(message.command);
  const label = client.has('labeled-response') ? message.tags.get('label') : undefined;
  if (label !== undefined) client.startCapture();
  try {
    if (!command) {
      if (client.registered) client.numeric(ERR.UNKNOWNCOMMAND, message.command, 'Unknown command');
      else client.numeric(ERR.NOTREGISTERED, 'You have not registered');
    } else if (!command.early && !client.registered) {
      client.numeric(ERR.NOTREGISTERED, 'You have not registered');
    } else {
      await command.handle(client, message);
    }
  } finally {
    if (label !== undefined) client.flushCapture(label);
  }
}
