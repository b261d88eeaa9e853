import { usageOf } from '../../src/protocol/index.js';
import { formatHelp } from '../../src/client/format.js';
import { findCommand } from '../../src/client/input-parser.js';
import { roomWindowId } from '../../src/client/tui/chat-state.js';
import type { WebSession } from './session.js';

/** Commands the page runs itself; everything else goes to the server. */
export const LOCAL_COMMANDS = ['help', 'menu', 'switch', 'clear', 'reconnect', 'notify'];

const LOCAL_HELP = [
  { usage: '/help [COMMAND]', summary: 'this list, or one command' },
  { usage: '/menu', summary: 'pick a command from a list; you are asked for what it needs' },
  { usage: '/switch ROOM|@NICK', summary: 'show another window (also the list on the left)' },
  { usage: '/clear', summary: 'clear this window' },
  { usage: '/reconnect', summary: 'connect again now' },
  { usage: '/notify', summary: 'desktop notifications for mentions and private messages' },
];

export function localCommand(
  session: WebSession,
  name: string,
  rest: string,
): void | Promise<void> {
  const commands = session.commands;
  switch (name) {
    case 'menu':
      return session.menu();
    case 'help': {
      if (rest) {
        const command = findCommand(commands, rest.replace(/^[/!]/, ''));
        if (!command) return session.notice(`No command ${rest}`, 'error');
        return session.notice(`${usageOf(command)}: ${command.summary}`, 'info');
      }
      for (const row of formatHelp(commands, LOCAL_HELP, { admin: session.isAdmin }))
        session.notice(row.trimEnd(), 'info');
      return;
    }
    case 'switch': {
      if (rest.startsWith('@')) return session.openPrivate(rest.slice(1));
      const id = roomWindowId(rest.replace(/^#/, '') || 'lobby');
      if (!session.state.findWindow(id))
        return session.notice(`You are not in ${rest}: /join it first`, 'error');
      return session.switchTo(id);
    }
    case 'clear':
      session.state.currentWindow.lines = [];
      return session.changed();
    case 'reconnect':
      return session.reconnect();
    case 'notify':
      return session.enableNotifications();
  }
}
